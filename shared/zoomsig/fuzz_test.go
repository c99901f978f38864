package zoomsig

import (
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

// FuzzVerify: a body signed with Sign always verifies; any other signature
// for it never does; nothing panics on hostile headers.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("secret"), []byte(`{"event":"endpoint.url_validation"}`), "v0=00", "1764200000")
	f.Add([]byte(""), []byte(""), "", "")
	f.Add([]byte("k"), []byte{0xff, 0x00}, "v0=zz", "-1")
	f.Fuzz(func(t *testing.T, secret, body []byte, sig, ts string) {
		now := time.Unix(1_764_200_000, 0)
		good := Sign(secret, now, body)
		if err := Verify(secret, good, strconv.FormatInt(now.Unix(), 10), body, now, DefaultTolerance); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		// Whatever else is accepted must be the HMAC of exactly that
		// timestamp string and body: no other signature gets through.
		if Verify(secret, sig, ts, body, now, DefaultTolerance) == nil {
			want := "v0=" + hex.EncodeToString(mac(secret, []byte("v0:"+ts+":"), body))
			if sig != want {
				t.Fatalf("signature %q accepted for ts %q; only %q should be", sig, ts, want)
			}
		}
	})
}
