package apigw

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func loadEvent(t *testing.T, name string) events.APIGatewayProxyRequest {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	// The fixture survives a round trip through the SDK's event type.
	again, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var ev2 events.APIGatewayProxyRequest
	if err := json.Unmarshal(again, &ev2); err != nil || !reflect.DeepEqual(ev, ev2) {
		t.Fatalf("round trip of %s changed the event: %v", name, err)
	}
	return ev
}

type seen struct {
	method, path, pathValue, query, body, requestID, remote, contentType string
}

func TestHandler(t *testing.T) {
	tests := []struct {
		fixture string
		want    seen
	}{
		{"get-number-encoded.json", seen{
			method: "GET", path: "/v1/numbers/+97239754571", pathValue: "+97239754571",
			query: "tag=a&tag=b&view=full", requestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", remote: "198.51.100.7",
		}},
		{"post-base64.json", seen{
			method: "POST", path: "/v1/numbers/release", body: `{"numbers":["+97239754571"]}`,
			requestID: "req-2", remote: "203.0.113.9", contentType: "application/json",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			var got seen
			mux := http.NewServeMux()
			record := func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = seen{method: r.Method, path: r.URL.Path, pathValue: r.PathValue("number"), query: r.URL.RawQuery,
					body: string(b), requestID: r.Context().Value(idKey{}).(string), remote: r.RemoteAddr, contentType: r.Header.Get("Content-Type")}
				w.Header().Set("Content-Type", "application/json")
				w.Header().Add("X-Multi", "1")
				w.Header().Add("X-Multi", "2")
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(`{"ok":true}`))
			}
			mux.HandleFunc("GET /v1/numbers/{number}", record)
			mux.HandleFunc("POST /v1/numbers/release", record)
			h := Handler(mux, func(ctx context.Context, id string) context.Context { return context.WithValue(ctx, idKey{}, id) })
			resp, err := h(context.Background(), loadEvent(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("handler saw %+v\nwant %+v", got, tt.want)
			}
			if resp.StatusCode != http.StatusAccepted || resp.Body != `{"ok":true}` || resp.IsBase64Encoded ||
				!reflect.DeepEqual(resp.MultiValueHeaders["X-Multi"], []string{"1", "2"}) {
				t.Fatalf("response = %+v", resp)
			}
		})
	}
}

type idKey struct{}

func TestBinaryResponseIsBase64(t *testing.T) {
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte{0x89, 'P', 'N', 'G', 0xff})
	}), nil)
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/x"})
	if err != nil || !resp.IsBase64Encoded || resp.Body != "iVBOR/8=" || resp.StatusCode != 200 {
		t.Fatalf("response = %+v, %v", resp, err)
	}
}

func TestBadBase64BodyIsAnError(t *testing.T) {
	h := Handler(http.NotFoundHandler(), nil)
	if _, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/x", Body: "%%%", IsBase64Encoded: true}); err == nil {
		t.Fatal("undecodable base64 body was accepted")
	}
}
