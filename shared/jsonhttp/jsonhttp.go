// Package jsonhttp holds what every JSON endpoint of the service shares
// (the API, the Zoom webhook, the local token issuer): the request's id,
// reading its body within a limit, decoding a JSON body strictly and naming
// what was wrong with it in words a caller can act on, writing a JSON
// answer, and writing an error as an RFC 9457 problem document.
package jsonhttp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// NoSniff is set on every answer (X-Content-Type-Options), so a browser
// never reads a JSON or problem body as anything else.
const NoSniff = "nosniff"

// Write sends v as a JSON answer that no cache keeps.
func Write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"title":"Internal error","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", NoSniff)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// DecodeObject decodes body, which must be exactly one JSON object, into the
// struct that v points to. It is stricter than encoding/json, so that what it
// accepts is what the API document describes: member names must match v's
// json names exactly (encoding/json would also take "Numbers" for
// "numbers"), unknown members are refused, no member may appear twice
// (encoding/json would keep the last silently), no value may be null, and
// nothing may follow the object. Its errors are caller-safe sentences that
// name the offending member as the request spells it, never a Go type.
func DecodeObject(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("the request body is empty; send a JSON object")
	}
	names := memberNames(v)
	if err := scanObject(body, names); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(describe(err, v))
	}
	return nil
}

// DescribeDecodeError says what was wrong with a JSON body in the API's
// words, without echoing the body or naming a Go type. v is what the body
// was decoded into (nil if unknown); it lets a wrong item of an array be told
// from a wrong array.
func DescribeDecodeError(err error, v any) string { return describe(err, v) }

func describe(err error, v any) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && strings.HasPrefix(syn.Error(), "unexpected end of JSON input"):
		return "malformed JSON: the body ends before the JSON value does"
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON: syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return describeType(typ, v)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: the body ends before the JSON value does"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "malformed JSON: the request body must be a JSON object"
}

// describeType names the member whose value has the wrong JSON type, and the
// JSON type it must have.
func describeType(typ *json.UnmarshalTypeError, v any) string {
	got := article(typ.Value)
	if typ.Field == "" {
		return fmt.Sprintf("the request body must be a JSON object, not %s", got)
	}
	name := typ.Field
	if f, ok := fieldByName(v, name); ok && f.Kind() == reflect.Slice && f.Elem() == typ.Type {
		return fmt.Sprintf("every item of %q must be %s, not %s", name, jsonKind(typ.Type), got)
	}
	return fmt.Sprintf("%q must be %s, not %s", name, jsonKind(typ.Type), got)
}

// jsonKind names the JSON type a Go type is read from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another JSON type"
}

// article names a JSON value kind as encoding/json reports it ("number",
// "string", "array", "object", "bool", or "number <literal>").
func article(value string) string {
	kind, _, _ := strings.Cut(value, " ")
	switch kind {
	case "array", "object":
		return "an " + kind
	case "bool":
		return "true or false"
	case "number", "string":
		return "a " + kind
	}
	return "another JSON type"
}

// memberNames lists the json names of the fields of the struct v points to.
func memberNames(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		if name := jsonName(f); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func fieldByName(v any, name string) (reflect.Type, bool) {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, false
	}
	for f := range t.Fields() {
		if jsonName(f) == name {
			return f.Type, true
		}
	}
	return nil, false
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// scanObject walks the body's tokens: one object whose top-level members are
// among names (when names is not nil), no member twice in any object, no
// null anywhere, nothing after the object.
func scanObject(body []byte, names []string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return errors.New(describe(err, nil))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("the request body must be a JSON object, not %s", tokenKind(tok))
	}
	if err := scanMembers(dec, "", names, 1); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("malformed JSON: unexpected data after the JSON object")
	}
	return nil
}

// maxDepth bounds how deeply a body may nest objects and arrays; the API's
// bodies nest two levels.
const maxDepth = 32

// scanMembers reads an object's members up to its closing brace; path is
// where the object is ("" for the body itself), depth how deep it is.
func scanMembers(dec *json.Decoder, path string, names []string, depth int) error {
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return errors.New(describe(err, nil))
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, _ := tok.(string)
		at := key
		if path != "" {
			at = path + "." + key
		}
		if seen[key] {
			return fmt.Errorf("%q appears more than once in the JSON object; send each field once", at)
		}
		seen[key] = true
		if path == "" && names != nil && !slices.Contains(names, key) {
			return fmt.Errorf("unknown field %q; the fields are %s", key, strings.Join(names, ", "))
		}
		if err := scanValue(dec, at, depth); err != nil {
			return err
		}
	}
}

func scanValue(dec *json.Decoder, at string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return errors.New(describe(err, nil))
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') && depth >= maxDepth {
		return fmt.Errorf("%q nests objects and arrays more than %d levels deep", at, maxDepth)
	}
	switch tok {
	case nil:
		return fmt.Errorf("%q must not be null; leave it out or give it a value", at)
	case json.Delim('{'):
		return scanMembers(dec, at, nil, depth+1)
	case json.Delim('['):
		for i := 0; ; i++ {
			if !dec.More() {
				_, err := dec.Token() // the closing bracket
				if err != nil {
					return errors.New(describe(err, nil))
				}
				return nil
			}
			if err := scanValue(dec, fmt.Sprintf("%s[%d]", at, i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return "another JSON value"
}

// NewRequestID returns a random id for a request that arrived without one.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
