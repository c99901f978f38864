package number

import (
	"math/bits"
	"regexp"
	"slices"
	"sync"
)

//go:generate go run ./internal/gen -o metadata_gen.go

// This file declares the shape of metadata_gen.go: the part of
// libphonenumber's metadata (as shipped by github.com/nyaruka/phonenumbers)
// that validating an international number needs. The data is static (no init
// work), and its regular expressions are compiled one by one on first use.

// patternID indexes patterns, the metadata's regular expressions, each stored
// already anchored the way libphonenumber anchors it.
type patternID uint16

// noPattern marks a region without leading digits or without a national
// prefix for parsing; patterns[noPattern] is an unused empty string.
const noPattern patternID = 0

// lengthSet is a set of national significant number lengths: bit n stands
// for length n.
type lengthSet uint32

// has reports whether n is in the set.
func (s lengthSet) has(n int) bool { return n < 32 && s&(1<<n) != 0 }

// max is the greatest length in a non-empty set.
func (s lengthSet) max() int { return bits.Len32(uint32(s)) - 1 }

// desc is a number description: the pattern national significant numbers
// must match, and the lengths they may have (an empty set means any length,
// that is the general description's).
type desc struct {
	pattern patternID
	lengths lengthSet
}

// Indexes into region.types, which lists a region's number types in this
// order: fixed line, mobile, toll free, premium rate, shared cost, VoIP,
// personal number, pager, UAN, voicemail.
const (
	mobile      = 1
	numberTypes = 10
)

// region is what validation needs of one region's (or one non-geographical
// entity's) metadata. Parsing reads the national prefix and local-only
// lengths of a calling code's main region alone, and leading digits only
// pick among regions sharing a calling code, so the generator leaves those
// fields zero where they would never be read.
type region struct {
	id string // ISO 3166 region code, or "001" for a non-geographical entity
	// leadingDigits, when set, picks this region among those sharing its
	// calling code by the start of the national significant number.
	leadingDigits patternID
	// nationalPrefix is the national prefix for parsing (a prefix pattern),
	// and transformRule the replacement template applied when its last
	// capturing group matched.
	nationalPrefix patternID
	transformRule  string
	// sameMobileAndFixedLine says mobile numbers need no separate check.
	sameMobileAndFixedLine bool
	general                desc
	localOnly              lengthSet // lengths only diallable within the region
	types                  [numberTypes]desc
}

// callingCode is one country calling code and its regions, which are
// regions[first : first+count], the main region first.
type callingCode struct {
	code  uint16
	first uint16
	count uint8
}

// regions returns the calling code's regions, the main region first.
func (c *callingCode) regions() []region {
	return regions[c.first : int(c.first)+int(c.count)]
}

// lookupCallingCode returns the calling code code, or nil if there is none.
func lookupCallingCode(code int) *callingCode {
	i, found := slices.BinarySearchFunc(callingCodes[:], code, func(c callingCode, code int) int {
		return int(c.code) - code
	})
	if !found {
		return nil
	}
	return &callingCodes[i]
}

// lazyRegexp is one pattern, compiled on first use.
type lazyRegexp struct {
	once sync.Once
	re   *regexp.Regexp
}

// compiled caches the compiled patterns, index for index.
var compiled [len(patterns)]lazyRegexp

// compile returns pattern id, compiling it the first time. The generator
// checked that every pattern compiles.
func compile(id patternID) *regexp.Regexp {
	c := &compiled[id]
	c.once.Do(func() { c.re = regexp.MustCompile(patterns[id]) })
	return c.re
}
