package jsonhttp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

type input struct {
	CustomerID string   `json:"customer_id"`
	Numbers    []string `json:"numbers"`
	Reason     string   `json:"reason,omitempty"`
}

// goWords are what would betray Go internals in a message: type names,
// package paths, struct field paths.
var goWords = regexp.MustCompile(`\[\]|\binput\b|jsonhttp|\bstruct\b|\bGo\b|\bint64\b|\bfloat64\b|\binterface\b|json:`)

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // the whole message; "" when the body is accepted
	}{
		{name: "valid", body: `{"customer_id":"acme","numbers":["+97239754571"],"reason":"x"}`},
		{name: "valid, white space around", body: " \n{\"numbers\":[]}\t "},
		{name: "empty", body: "  ", want: "the request body is empty; send a JSON object"},
		{name: "array", body: `[{"numbers":["+97239754571"]}]`, want: "the request body must be a JSON object, not an array"},
		{name: "string", body: `"acme"`, want: "the request body must be a JSON object, not a string"},
		{name: "number", body: `42`, want: "the request body must be a JSON object, not a number"},
		{name: "null", body: `null`, want: "the request body must be a JSON object, not null"},
		{name: "boolean", body: `true`, want: "the request body must be a JSON object, not true or false"},
		{name: "array where a string is", body: `{"customer_id":["acme"]}`, want: `"customer_id" must be a string, not an array`},
		{name: "string where an array is", body: `{"numbers":"+97239754571"}`, want: `"numbers" must be an array of strings, not a string`},
		{name: "number in the array", body: `{"numbers":["+97239754571",97239754569]}`, want: `every item of "numbers" must be a string, not a number`},
		{name: "object in the array", body: `{"numbers":[{}]}`, want: `every item of "numbers" must be a string, not an object`},
		{name: "duplicate key", body: `{"numbers":["+97239754571"],"numbers":["+97239754569"]}`, want: `"numbers" appears more than once in the JSON object; send each field once`},
		{name: "duplicate key in a nested object", body: `{"numbers":[{"a":1,"a":2}]}`, want: `"numbers[0].a" appears more than once in the JSON object; send each field once`},
		{name: "null field", body: `{"customer_id":"acme","reason":null}`, want: `"reason" must not be null; leave it out or give it a value`},
		{name: "null item", body: `{"numbers":["+97239754571",null]}`, want: `"numbers[1]" must not be null; leave it out or give it a value`},
		{name: "unknown field", body: `{"number":["+97239754571"]}`, want: `unknown field "number"; the fields are customer_id, numbers, reason`},
		{name: "field in another case", body: `{"Numbers":["+97239754571"]}`, want: `unknown field "Numbers"; the fields are customer_id, numbers, reason`},
		{name: "trailing data", body: `{"numbers":[]} {}`, want: "malformed JSON: unexpected data after the JSON object"},
		{name: "cut short", body: `{"numbers":[`, want: "malformed JSON: the body ends before the JSON value does"},
		{name: "syntax error", body: `{"numbers" ["x"]}`, want: "malformed JSON: syntax error at byte 11"},
		{name: "nested too deeply", body: `{"numbers":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
			want: `"numbers[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]" nests objects and arrays more than 32 levels deep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v input
			err := DecodeObject([]byte(tt.body), &v)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("DecodeObject: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeObject accepted %s as %+v", tt.body, v)
			}
			if err.Error() != tt.want {
				t.Errorf("message %q; want %q", err, tt.want)
			}
			if goWords.MatchString(err.Error()) {
				t.Errorf("message %q names Go internals", err)
			}
		})
	}
}

// TestDescribeDecodeError: what encoding/json reports is said in the API's
// words, for bodies decoded without DecodeObject (the Zoom webhook).
func TestDescribeDecodeError(t *testing.T) {
	type object struct {
		Phone string `json:"phone_number"`
	}
	type envelope struct {
		Event   string `json:"event"`
		TS      int64  `json:"event_ts"`
		Payload struct {
			Object object `json:"object"`
		} `json:"payload"`
	}
	tests := []struct{ body, want string }{
		{`[]`, "the request body must be a JSON object, not an array"},
		{`{"event":1}`, `"event" must be a string, not a number`},
		{`{"event_ts":"now"}`, `"event_ts" must be a whole number, not a string`},
		{`{"event_ts":1.5}`, `"event_ts" must be a whole number, not a number`},
		{`{"payload":{"object":{"phone_number":true}}}`, `"payload.object.phone_number" must be a string, not true or false`},
		{`{"payload":[]}`, `"payload" must be an object, not an array`},
		{`{"event":`, "malformed JSON: the body ends before the JSON value does"},
	}
	for _, tt := range tests {
		var v envelope
		err := json.Unmarshal([]byte(tt.body), &v)
		if err == nil {
			t.Fatalf("%s: decoded", tt.body)
		}
		got := DescribeDecodeError(err, &v)
		if got != tt.want {
			t.Errorf("%s: %q; want %q", tt.body, got, tt.want)
		}
		if goWords.MatchString(got) {
			t.Errorf("%s: %q names Go internals", tt.body, got)
		}
	}
}

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, http.StatusCreated, map[string]int{"n": 1})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"n":1}` || rec.Header().Get("Cache-Control") != "no-store" ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("Write: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if a, b := NewRequestID(), NewRequestID(); len(a) != 24 || a == b {
		t.Fatalf("request ids %q %q", a, b)
	}
}
