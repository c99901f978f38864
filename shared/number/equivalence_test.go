package number

import (
	"math/rand/v2"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestParseMatchesLibrary compares Parse, which validates on the generated
// metadata, with referenceParse, which calls github.com/nyaruka/phonenumbers,
// input for input: the normalised number and the error must be the same.
func TestParseMatchesLibrary(t *testing.T) {
	tests := []struct {
		name      string
		inputs    func(testing.TB) []string
		someValid bool // whether some inputs are valid numbers
	}{
		{"hand-picked edge cases", func(testing.TB) []string { return edgeCases }, true},
		{"library example numbers and their mutations", exampleInputs, true},
		{"numbers matching each pattern of the metadata", patternInputs, true},
		{"every number of up to 5 digits", shortInputs, false}, // none is that short
		{"pseudo-random digit strings", randomInputs, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputs := tt.inputs(t)
			disagreements, valid := 0, 0
			for _, in := range inputs {
				got, gotErr := Parse(in)
				want, wantErr := referenceParse(in)
				if wantErr == nil {
					valid++
				}
				if got == want && errorText(gotErr) == errorText(wantErr) {
					continue
				}
				disagreements++
				if disagreements <= 20 {
					t.Errorf("Parse(%q) = %q, %v; library: %q, %v", in, got, gotErr, want, wantErr)
				}
			}
			t.Logf("%d inputs (%d valid), %d disagreements", len(inputs), valid, disagreements)
			if disagreements > 0 {
				t.Errorf("%d of %d inputs disagree with the library", disagreements, len(inputs))
			}
			if tt.someValid && valid == 0 {
				t.Error("no input is a valid number, so nothing valid was compared")
			}
		})
	}
}

// edgeCases exercise each step of the library's parsing: national prefixes
// stripped or rewritten by a transform rule (AR, BR, JP, SM, NF, MG, GA) or
// left because the rest would be only diallable locally (+1 1 310 2886),
// leading zeros (IT, VA), regions sharing a calling code (NANPA, RU/KZ,
// GB/GG/IM/JE, NO/SJ, AU/CC/CX, ...), non-geographical entities, and inputs
// too short, too long or with an unknown calling code.
var edgeCases = []string{
	"+5401115 2345 6789", "+54 11 15 2345 6789", "+54 0 11 2345 6789", "+54 9 11 2345 6789", "+54 341 15 123 4567",
	"+55 0 21 2345 6789", "+55 0 15 21 2345 6789", "+55 90 15 21 98765 4321", "+55 21 98765 4321",
	"+81 0 3 1234 5678", "+81 3 1234 5678", "+81 0003 7680 3 1234", "+81 00025 12345",
	"+378 812345", "+378 0549 812345", "+672 12345", "+672 3 12345", "+261 2212345", "+261 0 20 22 123 45",
	"+241 0 11 123456", "+241 0 6 123456", "+241 06 031 234",
	"+39 06 6982 1234", "+39 0039 1234", "+39 3123456789", "+39 06 698", "+39 00", "+39 000", "+379 06 698 1234",
	"+800 1234 5678", "+808 1234 5678", "+870 301 234 567", "+882 1234 5678", "+883 5100 1234 5678", "+979 1234 5678",
	"+7 701 123 4567", "+7 495 123 4567", "+7 8 495 123 4567",
	"+1 268 464 1234", "+1 4641234", "+1 310 2886", "+1 1 310 2886", "+1 1 268 464 1234", "+1 (415) 555-2671", "+1 415 555 267", "+1 415 555 26711",
	"+44 1481 256789", "+44 7700 900123", "+44 0 7700 900123", "+44 1624 456789", "+44 7911 123456",
	"+47 79 12 34 56", "+358 18 123456", "+212 528 123456", "+262 269 61 23 45", "+590 690 00 12 34",
	"+599 9 461 2345", "+599 7 15 1234", "+290 22158", "+61 8 9162 1234", "+61 0 412 345 678",
	"+972 3-975-4571", "+97239754569", "+999 123 4567", "+0 123 456 789", "+12", "+123", "+", "",
}

// errorText returns err's message, or "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// exampleNumber is one example national significant number of the library's
// metadata, with the calling code and national prefixes of its region.
type exampleNumber struct {
	callingCode string
	nsn         string
	prefixes    []string // national prefixes a number may be written with
}

// exampleNumbers returns every example number of every region and
// non-geographical entity, for every number type.
func exampleNumbers(tb testing.TB) []exampleNumber {
	tb.Helper()
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		tb.Fatal(err)
	}
	var out []exampleNumber
	for _, md := range coll.GetMetadata() {
		prefixes := []string{"0", "1"}
		if np := md.GetNationalPrefix(); np != "" && !slices.Contains(prefixes, np) {
			prefixes = append(prefixes, np)
		}
		for _, d := range descriptions(md) {
			if ex := d.GetExampleNumber(); ex != "" {
				out = append(out, exampleNumber{strconv.Itoa(int(md.GetCountryCode())), ex, prefixes})
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("the library has no example numbers")
	}
	return out
}

// descriptions returns md's general description and those of every number
// type.
func descriptions(md *phonenumbers.PhoneMetadata) []*phonenumbers.PhoneNumberDesc {
	return []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetFixedLine(), md.GetMobile(),
		md.GetTollFree(), md.GetPremiumRate(), md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(),
		md.GetPager(), md.GetUan(), md.GetVoicemail()}
}

// exampleInputs returns every example number (as the library formats it
// with GetExampleNumberForType, and as the metadata lists it) in E.164 and
// mutated: one digit added, one removed, the last one changed, a national
// prefix or leading zeros after the calling code.
func exampleInputs(tb testing.TB) []string {
	tb.Helper()
	var in inputSet
	for _, ex := range exampleNumbers(tb) {
		in.addMutations(ex)
	}
	regionCodes := make([]string, 0, len(phonenumbers.GetSupportedRegions()))
	for r := range phonenumbers.GetSupportedRegions() {
		regionCodes = append(regionCodes, r)
	}
	slices.Sort(regionCodes)
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE,
		phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
		phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	for _, r := range regionCodes {
		for _, typ := range types {
			if pn := phonenumbers.GetExampleNumberForType(r, typ); pn != nil {
				in.add(phonenumbers.Format(pn, phonenumbers.E164))
				in.add(phonenumbers.Format(pn, phonenumbers.INTERNATIONAL))
			}
		}
	}
	return in.list
}

// inputSet collects distinct inputs in the order first added.
type inputSet struct {
	list []string
	seen map[string]bool
}

// add adds s unless it is already in the set.
func (in *inputSet) add(s string) {
	if in.seen == nil {
		in.seen = map[string]bool{}
	}
	if !in.seen[s] {
		in.seen[s] = true
		in.list = append(in.list, s)
	}
}

// addMutations adds ex in E.164 (with and without +) and its mutations.
func (in *inputSet) addMutations(ex exampleNumber) {
	cc, nsn := ex.callingCode, ex.nsn
	in.add("+" + cc + nsn)
	in.add(cc + nsn)
	for d := '0'; d <= '9'; d++ {
		in.add("+" + cc + nsn + string(d))
		in.add("+" + cc + string(d) + nsn)
		if last := rune(nsn[len(nsn)-1]); d != last {
			in.add("+" + cc + nsn[:len(nsn)-1] + string(d))
		}
	}
	for i := range nsn {
		in.add("+" + cc + nsn[:i] + nsn[i+1:])
	}
	for _, p := range ex.prefixes {
		in.add("+" + cc + p + nsn)
	}
	in.add("+" + cc + "00" + nsn)
	in.add("+0" + cc + nsn)
}

// shortInputs returns every digit string of 1 to 5 digits.
func shortInputs(testing.TB) []string {
	var out []string
	for n, limit := 1, 10; n <= 5; n, limit = n+1, limit*10 {
		for i := range limit {
			out = append(out, fmtDigits(i, n))
		}
	}
	return out
}

// fmtDigits returns i as n digits, zero-padded.
func fmtDigits(i, n int) string {
	s := strconv.Itoa(i)
	return strings.Repeat("0", n-len(s)) + s
}

// randomInputs returns a fixed pseudo-random set of digit strings of 3 to
// 16 digits, most of them starting with a real calling code, often followed
// by a national prefix or by the start of one of its example numbers:
// 250,000 of them, the first 25,000 under -short.
func randomInputs(tb testing.TB) []string {
	tb.Helper()
	n := 250_000
	if testing.Short() {
		n = 25_000
	}
	byCode := map[string][]exampleNumber{}
	var codes []string
	for _, ex := range exampleNumbers(tb) {
		if byCode[ex.callingCode] == nil {
			codes = append(codes, ex.callingCode)
		}
		byCode[ex.callingCode] = append(byCode[ex.callingCode], ex)
	}
	rng := rand.New(rand.NewPCG(0x6e756d62, 0x65727321))
	out := make([]string, 0, n)
	for range n {
		var b strings.Builder
		if rng.IntN(2) == 0 {
			b.WriteByte('+')
		}
		length := 3 + rng.IntN(14)
		if rng.IntN(5) > 0 {
			examples := byCode[codes[rng.IntN(len(codes))]]
			ex := examples[rng.IntN(len(examples))]
			b.WriteString(ex.callingCode)
			switch rng.IntN(3) {
			case 0:
				b.WriteString(ex.prefixes[rng.IntN(len(ex.prefixes))])
			case 1:
				b.WriteString(ex.nsn[:rng.IntN(len(ex.nsn)+1)])
				length = len(ex.callingCode) + len(ex.nsn) - 2 + rng.IntN(5)
			}
		}
		for digits := len(strings.TrimPrefix(b.String(), "+")); digits < length; digits++ {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		out = append(out, b.String())
	}
	return out
}

// patternInputs returns, for every number description of every region and
// non-geographical entity, pseudo-random numbers that match its pattern,
// after the calling code, some with a national prefix before them.
func patternInputs(tb testing.TB) []string {
	tb.Helper()
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(0x70617474, 0x65726e73))
	var in inputSet
	for _, md := range coll.GetMetadata() {
		cc := strconv.Itoa(int(md.GetCountryCode()))
		for _, d := range descriptions(md) {
			re, err := syntax.Parse(d.GetNationalNumberPattern(), syntax.Perl)
			if err != nil {
				tb.Fatalf("%s pattern %q: %v", md.GetId(), d.GetNationalNumberPattern(), err)
			}
			re = re.Simplify()
			for range 24 {
				var b strings.Builder
				sample(re, rng, &b)
				in.add("+" + cc + b.String())
				in.add("+" + cc + md.GetNationalPrefix() + b.String())
			}
		}
	}
	return in.list
}

// sample writes a pseudo-random string that re matches, choosing among
// alternatives, repetition counts (at most 3 beyond the minimum) and
// character ranges.
func sample(re *syntax.Regexp, rng *rand.Rand, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		pair := 2 * rng.IntN(len(re.Rune)/2)
		lo, hi := re.Rune[pair], re.Rune[pair+1]
		b.WriteRune(lo + rune(rng.IntN(int(min(hi, lo+9)-lo)+1)))
	case syntax.OpCapture:
		sample(re.Sub[0], rng, b)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			sample(sub, rng, b)
		}
	case syntax.OpAlternate:
		sample(re.Sub[rng.IntN(len(re.Sub))], rng, b)
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		lo, hi := repeatBounds(re)
		for range lo + rng.IntN(hi-lo+1) {
			sample(re.Sub[0], rng, b)
		}
	}
}

// repeatBounds returns how many times a repetition may repeat, capping
// unbounded ones at 3 beyond the minimum.
func repeatBounds(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpQuest:
		return 0, 1
	case syntax.OpStar:
		return 0, 3
	case syntax.OpPlus:
		return 1, 4
	}
	if re.Max < 0 {
		return re.Min, re.Min + 3
	}
	return re.Min, re.Max
}
