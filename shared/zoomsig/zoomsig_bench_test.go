package zoomsig_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"numberrelease/shared/zoomsig"
)

// BenchmarkVerify checks the signature of a 1 KiB webhook body, as the
// webhook does for every notification.
func BenchmarkVerify(b *testing.B) {
	secret := []byte("bench-webhook-secret")
	body := bytes.Repeat([]byte("x"), 1024)
	now := time.Unix(1764200000, 0)
	sig := zoomsig.Sign(secret, now, body)
	ts := strconv.FormatInt(now.Unix(), 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := zoomsig.Verify(secret, sig, ts, body, now, zoomsig.DefaultTolerance); err != nil {
			b.Fatal(err)
		}
	}
}
