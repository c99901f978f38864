// Command gen writes shared/number/metadata_gen.go: the part of
// libphonenumber's metadata, as shipped by github.com/nyaruka/phonenumbers,
// that validating an international number needs. Only this generator (and
// tests) link the library; the Lambda binaries get the generated tables.
//
// Run it with `go generate ./shared/number`.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"log"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

func main() {
	out := flag.String("o", "metadata_gen.go", "file to write")
	flag.Parse()
	src, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// nonGeoRegion is libphonenumber's region code for non-geographical
// entities (international toll free, satellite services, ...).
const nonGeoRegion = "001"

// maxLength bounds the lengths a number description may list: the runtime
// keeps them as bits of a uint32.
const maxLength = 31

// generate returns the gofmt-ed source of metadata_gen.go.
func generate() ([]byte, error) {
	meta, err := loadMetadata()
	if err != nil {
		return nil, err
	}
	codes := make([]int, 0, len(phonenumbers.GetSupportedCallingCodes()))
	for code := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, code)
	}
	slices.Sort(codes)

	w := newWriter()
	for _, code := range codes {
		if err := w.callingCode(code, meta); err != nil {
			return nil, fmt.Errorf("calling code %d: %w", code, err)
		}
	}
	if len(w.patterns) > math.MaxUint16+1 || w.nRegions > math.MaxUint16 {
		return nil, fmt.Errorf("%d patterns and %d regions overflow the runtime's uint16 indexes", len(w.patterns), w.nRegions)
	}
	src, err := format.Source(w.source())
	if err != nil {
		return nil, fmt.Errorf("formatting generated code: %w", err)
	}
	return src, nil
}

// metadata indexes the library's metadata: regions by region code,
// non-geographical entities by calling code.
type metadata struct {
	regions map[string]*phonenumbers.PhoneMetadata
	nonGeo  map[int]*phonenumbers.PhoneMetadata
}

// loadMetadata reads the library's metadata collection.
func loadMetadata() (metadata, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return metadata{}, fmt.Errorf("loading phonenumbers metadata: %w", err)
	}
	m := metadata{regions: map[string]*phonenumbers.PhoneMetadata{}, nonGeo: map[int]*phonenumbers.PhoneMetadata{}}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == nonGeoRegion {
			m.nonGeo[int(md.GetCountryCode())] = md
		} else {
			m.regions[md.GetId()] = md
		}
	}
	return m, nil
}

// lookup returns the metadata of one region of calling code code, as the
// library's getMetadataForRegionOrCallingCode does.
func (m metadata) lookup(code int, regionCode string) (*phonenumbers.PhoneMetadata, error) {
	md := m.regions[regionCode]
	if regionCode == nonGeoRegion {
		md = m.nonGeo[code]
	}
	if md == nil {
		return nil, fmt.Errorf("region %s has no metadata", regionCode)
	}
	if int(md.GetCountryCode()) != code {
		return nil, fmt.Errorf("region %s has calling code %d", regionCode, md.GetCountryCode())
	}
	return md, nil
}

// writer accumulates the generated tables.
type writer struct {
	patterns  []string
	patternID map[string]int
	codes     bytes.Buffer
	regions   bytes.Buffer
	nRegions  int
}

// newWriter returns a writer whose pattern 0 is the unused noPattern entry.
func newWriter() *writer {
	return &writer{patterns: []string{""}, patternID: map[string]int{"": 0}}
}

// pattern returns the ID of the anchored pattern, adding it the first time.
func (w *writer) pattern(anchored string) (int, error) {
	if id, ok := w.patternID[anchored]; ok {
		return id, nil
	}
	if _, err := regexp.Compile(anchored); err != nil {
		return 0, fmt.Errorf("pattern %q: %w", anchored, err)
	}
	id := len(w.patterns)
	w.patterns = append(w.patterns, anchored)
	w.patternID[anchored] = id
	return id, nil
}

// prefixPattern returns the ID of a pattern that must match at the start of
// a number ("^(?:p)", as the library compiles leading digits and national
// prefixes for parsing), or 0 (noPattern) when p is empty, which the library
// treats as absent.
func (w *writer) prefixPattern(p string) (int, error) {
	if p == "" {
		return 0, nil
	}
	return w.pattern("^(?:" + p + ")")
}

// callingCode writes one calling code and its regions, in the library's
// order (the main region first).
func (w *writer) callingCode(code int, meta metadata) error {
	regionCodes := phonenumbers.GetRegionCodesForCountryCode(code)
	if len(regionCodes) == 0 || len(regionCodes) > math.MaxUint8 {
		return fmt.Errorf("%d regions", len(regionCodes))
	}
	if slices.Contains(regionCodes, nonGeoRegion) && len(regionCodes) > 1 {
		return errors.New("non-geographical entity shares its calling code")
	}
	fmt.Fprintf(&w.codes, "{code: %d, first: %d, count: %d},\n", code, w.nRegions, len(regionCodes))
	for i, regionCode := range regionCodes {
		md, err := meta.lookup(code, regionCode)
		if err != nil {
			return err
		}
		e, err := w.region(md, i == 0, len(regionCodes) > 1)
		if err != nil {
			return fmt.Errorf("region %s: %w", regionCode, err)
		}
		e.id = regionCode
		w.write(e)
	}
	return nil
}

// entry is one region's generated entry.
type entry struct {
	id             string
	leadingDigits  int
	nationalPrefix int
	transformRule  string
	sameMobile     bool
	general        string
	localOnly      uint32
	types          []string
}

// region returns a region's entry. Only the main region of a calling code
// gets the national prefix and local-only lengths (parseHelper reads them
// from it alone), and only regions sharing a calling code get leading
// digits (they only pick among several): the runtime reads no more.
func (w *writer) region(md *phonenumbers.PhoneMetadata, main, shared bool) (entry, error) {
	var e entry
	var err error
	if shared {
		if e.leadingDigits, err = w.prefixPattern(md.GetLeadingDigits()); err != nil {
			return entry{}, fmt.Errorf("leading digits: %w", err)
		}
	}
	if main {
		if e.nationalPrefix, err = w.prefixPattern(md.GetNationalPrefixForParsing()); err != nil {
			return entry{}, fmt.Errorf("national prefix for parsing: %w", err)
		}
		e.transformRule = md.GetNationalPrefixTransformRule()
		if e.localOnly, err = lengths(md.GetGeneralDesc().GetPossibleLengthLocalOnly()); err != nil {
			return entry{}, fmt.Errorf("general description: local-only %w", err)
		}
	}
	if len(md.GetGeneralDesc().GetPossibleLength()) == 0 {
		return entry{}, errors.New("general description lists no possible lengths")
	}
	if e.general, err = w.desc(md.GetGeneralDesc()); err != nil {
		return entry{}, fmt.Errorf("general description: %w", err)
	}
	e.sameMobile = md.GetSameMobileAndFixedLinePattern()
	for _, t := range numberTypes(md) {
		d, err := w.desc(t.desc)
		if err != nil {
			return entry{}, fmt.Errorf("%s: %w", t.name, err)
		}
		e.types = append(e.types, fmt.Sprintf("%s, // %s", d, t.name))
	}
	return e, nil
}

// write appends a region's entry to the regions table.
func (w *writer) write(e entry) {
	b := &w.regions
	fmt.Fprintf(b, "{ // %d\nid: %q,\n", w.nRegions, e.id)
	fmt.Fprintf(b, "leadingDigits: %d,\nnationalPrefix: %d,\ntransformRule: %q,\n", e.leadingDigits, e.nationalPrefix, e.transformRule)
	fmt.Fprintf(b, "sameMobileAndFixedLine: %t,\ngeneral: desc%s,\nlocalOnly: %s,\n", e.sameMobile, e.general, lengthLiteral(e.localOnly))
	fmt.Fprintf(b, "types: [numberTypes]desc{\n%s\n},\n},\n", strings.Join(e.types, "\n"))
	w.nRegions++
}

// namedDesc is one number type's description.
type namedDesc struct {
	name string
	desc *phonenumbers.PhoneNumberDesc
}

// numberTypes lists the number types validation checks, in the order of the
// runtime's region.types.
func numberTypes(md *phonenumbers.PhoneMetadata) []namedDesc {
	return []namedDesc{
		{"fixed line", md.GetFixedLine()},
		{"mobile", md.GetMobile()},
		{"toll free", md.GetTollFree()},
		{"premium rate", md.GetPremiumRate()},
		{"shared cost", md.GetSharedCost()},
		{"VoIP", md.GetVoip()},
		{"personal number", md.GetPersonalNumber()},
		{"pager", md.GetPager()},
		{"UAN", md.GetUan()},
		{"voicemail", md.GetVoicemail()},
	}
}

// desc returns the Go literal of a number description: its pattern, anchored
// at both ends as the library matches it, and its possible lengths.
func (w *writer) desc(d *phonenumbers.PhoneNumberDesc) (string, error) {
	if d == nil {
		// The library would dereference it (isNumberMatchingDesc).
		return "", errors.New("missing description")
	}
	id, err := w.pattern("^(?:" + d.GetNationalNumberPattern() + ")$")
	if err != nil {
		return "", err
	}
	set, err := lengths(d.GetPossibleLength())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("{%d, %s}", id, lengthLiteral(set)), nil
}

// lengths returns possible lengths as a bit set. The library reads the first
// and last entries as the minimum and maximum, so they must be ascending.
func lengths(ls []int32) (uint32, error) {
	var set uint32
	for i, l := range ls {
		if l < 1 || l > maxLength {
			return 0, fmt.Errorf("possible length %d out of range", l)
		}
		if i > 0 && l <= ls[i-1] {
			return 0, fmt.Errorf("possible lengths %v not ascending", ls)
		}
		set |= 1 << l
	}
	return set, nil
}

// lengthLiteral returns a length set as a Go literal.
func lengthLiteral(set uint32) string {
	if set == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", set)
}

// source returns the unformatted generated file.
func (w *writer) source() []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by "go run ./internal/gen"; DO NOT EDIT.

// From the libphonenumber metadata of github.com/nyaruka/phonenumbers (the
// version go.mod requires); see metadata.go.

package number

`)
	b.WriteString("// patterns holds every distinct regular expression the metadata uses,\n// anchored as libphonenumber anchors it.\nvar patterns = [...]string{\n")
	for i, p := range w.patterns {
		fmt.Fprintf(&b, "%s, // %d\n", quote(p), i)
	}
	b.WriteString("}\n\n// callingCodes lists the country calling codes in ascending order.\nvar callingCodes = [...]callingCode{\n")
	b.Write(w.codes.Bytes())
	b.WriteString("}\n\n// regions holds every calling code's regions, in the library's order.\nvar regions = [...]region{\n")
	b.Write(w.regions.Bytes())
	b.WriteString("}\n")
	return b.Bytes()
}

// quote returns s as a raw string literal where it can be one, which keeps
// the patterns' backslashes readable.
func quote(s string) string {
	if s != "" && strconv.CanBackquote(s) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}
