package env

import "testing"

func TestRequire(t *testing.T) {
	t.Setenv("NR_A", "a")
	t.Setenv("NR_B", " ")
	tests := []struct {
		name    string
		names   []string
		wantErr string
	}{
		{"present", []string{"NR_A"}, ""},
		{"blank and unset named together", []string{"NR_A", "NR_B", "NR_C"}, "missing environment variables: NR_B, NR_C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Require(tt.names...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got["NR_A"] != "a" {
				t.Fatalf("Require = %v, %v", got, err)
			}
		})
	}
}
