package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedFileIsCurrent fails when shared/number/metadata_gen.go is not
// what the generator makes of the phonenumbers version go.mod requires.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../metadata_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("metadata_gen.go is stale: run go generate ./shared/number")
	}
}

// TestGenerateIsDeterministic generates twice: map iteration order must not
// leak into the output.
func TestGenerateIsDeterministic(t *testing.T) {
	first, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := generate()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two runs of the generator differ")
		}
	}
}

// TestLengths checks the conversion of possible lengths, refusals included.
func TestLengths(t *testing.T) {
	tests := []struct {
		in      []int32
		want    uint32
		wantErr bool
	}{
		{in: nil, want: 0},
		{in: []int32{7, 10}, want: 1<<7 | 1<<10},
		{in: []int32{-1}, wantErr: true},
		{in: []int32{32}, wantErr: true},
		{in: []int32{10, 7}, wantErr: true},
		{in: []int32{7, 7}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := lengths(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("lengths(%v) = %#x, %v; want %#x, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
