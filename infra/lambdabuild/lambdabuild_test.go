package lambdabuild

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module writes a Go module at a new directory: go.mod and the given files.
func module(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["go.mod"] = "module example.com/fns\n\ngo 1.26\n"
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const okMain = "package main\n\nfunc main() { println(\"ok\") }\n"

func TestFunctions(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		wantErr string
	}{
		{name: "directories with a main.go, sorted", files: map[string]string{
			"functions/webhook/main.go": okMain, "functions/api/main.go": okMain,
			"functions/shared/util.go": "package shared\n", "functions/deps_test.go": "package functions\n",
		}, want: []string{"api", "webhook"}},
		{name: "none", files: map[string]string{"shared/x.go": "package shared\n"}, wantErr: "no functions/<name>/main.go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Functions(module(t, tt.files))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Functions = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// checkBundle fails t unless path is a static Linux executable for machine.
func checkBundle(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != machine || f.Type != elf.ET_EXEC {
		t.Errorf("%s: %v %v, want an executable for %v", path, f.Machine, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked: provided.al2023 needs a static binary (CGO_ENABLED=0)", path)
		}
	}
}

// Every function becomes <out>/<name>/bootstrap for Linux on the asked
// architecture, and the same source gives the same bytes, even from another
// checkout: the asset hash, and so the deployment, changes only when the code
// does.
func TestBuildIsReproducible(t *testing.T) {
	files := func() map[string]string {
		return map[string]string{"functions/api/main.go": okMain, "functions/release-tasks/main.go": okMain}
	}
	var first map[string][]byte
	for _, checkout := range []struct{ root, out string }{
		{module(t, files()), "build"},
		{module(t, files()), filepath.Join(t.TempDir(), "elsewhere")},
	} {
		root, out := checkout.root, checkout.out
		names, err := Build(context.Background(), Options{Root: root, Out: out, GOARCH: "arm64"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{"api", "release-tasks"}) {
			t.Errorf("built %v", names)
		}
		if !filepath.IsAbs(out) {
			out = filepath.Join(root, out)
		}
		got := map[string][]byte{}
		for _, n := range names {
			p := filepath.Join(out, n, "bootstrap")
			checkBundle(t, p, elf.EM_AARCH64)
			if got[n], err = os.ReadFile(p); err != nil {
				t.Fatal(err)
			}
		}
		if leftovers, _ := filepath.Glob(filepath.Join(out, ".build-*")); len(leftovers) > 0 {
			t.Errorf("scratch directories left behind: %v", leftovers)
		}
		if first == nil {
			first = got
			continue
		}
		for n := range got {
			if !bytes.Equal(got[n], first[n]) {
				t.Errorf("%s: two builds of the same source differ", n)
			}
		}
	}
}

// A function that does not compile fails the build with the compiler's
// message, and the bundles already there stay as they were.
func TestBuildFailureKeepsTheBundles(t *testing.T) {
	root := module(t, map[string]string{
		"functions/api/main.go":    okMain,
		"functions/broken/main.go": "package main\n\nfunc main() { var n int = \"text\" }\n",
	})
	old := filepath.Join(root, "build", "api", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("previous bundle"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), Options{Root: root, Out: "build", GOARCH: "arm64"})
	if err == nil {
		t.Fatal("a function that does not compile was built")
	}
	for _, want := range []string{"functions/broken/main.go", "cannot use \"text\"", "GOARCH=arm64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if b, _ := os.ReadFile(old); string(b) != "previous bundle" {
		t.Errorf("the previous api bundle was replaced by a failed build")
	}
	if _, err := os.Stat(filepath.Join(root, "build", "broken")); !os.IsNotExist(err) {
		t.Errorf("a failed build left build/broken: %v", err)
	}
}

func TestBuildRefusesAnArchitectureLambdaDoesNotRun(t *testing.T) {
	root := module(t, map[string]string{"functions/api/main.go": okMain})
	_, err := Build(context.Background(), Options{Root: root, Out: "build", GOARCH: "386"})
	if err == nil || !strings.Contains(err.Error(), `GOARCH "386"`) {
		t.Errorf("err = %v, want the architecture named", err)
	}
	if _, err := os.Stat(filepath.Join(root, "build")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote %s", filepath.Join(root, "build"))
	}
}

// The project's own functions build into static arm64 bundles (the stack's
// architecture). Not with -short: it links every function.
func TestBuildTheProjectFunctions(t *testing.T) {
	if testing.Short() {
		t.Skip("links every function; not run with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	names, err := Build(context.Background(), Options{Root: root, Out: out, GOARCH: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, want) {
		t.Errorf("built %v, want %v", names, want)
	}
	for _, n := range names {
		checkBundle(t, filepath.Join(out, n, "bootstrap"), elf.EM_AARCH64)
	}
}
