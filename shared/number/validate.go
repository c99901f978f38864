package number

// This file reproduces what github.com/nyaruka/phonenumbers (a port of
// Google's libphonenumber) does with Parse("+"+digits, "") followed by
// IsValidNumber and Format(E164), on the generated metadata, without linking
// the library. Function comments name the library functions they follow.

// Bounds of a national significant number (MIN_LENGTH_FOR_NSN,
// MAX_LENGTH_FOR_NSN) and of a country calling code (MAX_LENGTH_COUNTRY_CODE).
const (
	minNSNLength         = 2
	maxNSNLength         = 17
	maxCallingCodeLength = 3
	// minViableDigits is the fewest digits isViablePhoneNumber accepts
	// after a leading +.
	minViableDigits = 3
)

// internationalE164 returns the E.164 form of digits, an international
// number without its leading + (ASCII digits only), if libphonenumber finds
// it a valid number (parseHelper, IsValidNumber). Once the national prefix
// is dealt with, the library keeps the national significant number as it
// is, leading zeros included (setItalianLeadingZerosForPhoneNumber and
// GetNationalSignificantNumber round-trip them), so Format(E164) gives "+",
// the calling code and that number.
func internationalE164(digits string) (string, bool) {
	if len(digits) < minViableDigits {
		return "", false
	}
	code, rest, ok := splitCallingCode(digits)
	if !ok || len(rest) < minNSNLength {
		return "", false
	}
	nsn := code.regions()[0].nationalSignificantNumber(rest)
	if len(nsn) < minNSNLength || len(nsn) > maxNSNLength {
		return "", false
	}
	r := code.regionFor(nsn)
	if r == nil || !r.isValid(nsn) {
		return "", false
	}
	return "+" + digits[:len(digits)-len(rest)] + nsn, true
}

// splitCallingCode returns the calling code digits start with and the rest
// of them: the first 1, 2 or 3 digits that make a known calling code
// (extractCountryCode). Calling codes never start with 0.
func splitCallingCode(digits string) (*callingCode, string, bool) {
	if digits == "" || digits[0] == '0' {
		return nil, "", false
	}
	code := 0
	for i := 0; i < maxCallingCodeLength && i < len(digits); i++ {
		code = code*10 + int(digits[i]-'0')
		if c := lookupCallingCode(code); c != nil {
			return c, digits[i+1:], true
		}
	}
	return nil, "", false
}

// nationalSignificantNumber returns number, the digits after the calling
// code, without the national prefix r's numbers may be written with, unless
// the number left would not have a possible length (parseHelper).
func (r *region) nationalSignificantNumber(number string) string {
	stripped := r.stripNationalPrefix(number)
	if !r.keepsStripped(len(stripped)) {
		return number
	}
	return stripped
}

// keepsStripped reports whether parseHelper keeps a number of length n that
// had its national prefix stripped: unless testNumberLength finds it too
// short, only diallable locally, or of a length between the region's
// shortest and longest that none of its numbers has. Too long is kept.
func (r *region) keepsStripped(n int) bool {
	if r.localOnly.has(n) {
		return false
	}
	return r.general.lengths.has(n) || n > r.general.lengths.max()
}

// stripNationalPrefix removes the national prefix for parsing (and any
// carrier code) from the start of number, rewriting it with the transform
// rule when that applies, unless number matches the general description and
// what is left would not (maybeStripNationalPrefixAndCarrierCode).
func (r *region) stripNationalPrefix(number string) string {
	if number == "" || r.nationalPrefix == noPattern {
		return number
	}
	prefix := compile(r.nationalPrefix)
	groups := prefix.FindStringSubmatchIndex(number)
	if groups == nil {
		return number
	}
	general := compile(r.general.pattern)
	viable := general.MatchString(number)
	lastGroup := len(groups)/2 - 1
	result := number[groups[1]:]
	if r.transformRule != "" && groups[2*lastGroup] >= 0 {
		result = prefix.ReplaceAllString(number, r.transformRule)
	}
	if viable && !general.MatchString(result) {
		return number
	}
	return result
}

// regionFor returns the region of the calling code nsn belongs to, or nil:
// the only one, or the first whose leading digits start nsn or, lacking
// leading digits, whose numbers nsn is one of
// (getRegionCodeForNumberFromRegionList).
func (c *callingCode) regionFor(nsn string) *region {
	rs := c.regions()
	if len(rs) == 1 {
		return &rs[0]
	}
	for i := range rs {
		r := &rs[i]
		if r.leadingDigits != noPattern {
			if compile(r.leadingDigits).MatchString(nsn) {
				return r
			}
		} else if r.isValid(nsn) {
			return r
		}
	}
	return nil
}

// isValid reports whether nsn is a number of r: it matches the general
// description and that of at least one number type (getNumberTypeHelper
// returns something other than UNKNOWN). Mobile numbers are not checked
// separately where they share the fixed-line pattern.
func (r *region) isValid(nsn string) bool {
	if !r.general.matches(nsn) {
		return false
	}
	for t, d := range r.types {
		if t == mobile && r.sameMobileAndFixedLine {
			continue
		}
		if d.matches(nsn) {
			return true
		}
	}
	return false
}

// matches reports whether nsn has one of d's lengths, if it lists any, and
// matches its pattern (isNumberMatchingDesc).
func (d desc) matches(nsn string) bool {
	if d.lengths != 0 && !d.lengths.has(len(nsn)) {
		return false
	}
	return compile(d.pattern).MatchString(nsn)
}
