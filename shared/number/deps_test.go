package number

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forbiddenDeps are the modules no Lambda may link. Linking phonenumbers
// costs each binary about 7 MiB: its init loads metadata with protobuf, and
// protobuf's use of reflect.Value.MethodByName stops the linker from pruning
// unused exported methods. Package number uses generated metadata instead.
var forbiddenDeps = []string{"github.com/nyaruka/phonenumbers", "google.golang.org/protobuf"}

// TestLambdasDoNotLinkPhonenumbers lists the dependencies of every
// functions/* main package, built as the Lambdas are, and fails naming each
// function that depends on a forbidden module.
func TestLambdasDoNotLinkPhonenumbers(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc",
		"-f", `{{if eq .Name "main"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{end}}`,
		"numberrelease/functions/...")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr(err))
	}
	functions := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		functions++
		var bad []string
		for _, dep := range fields[1:] {
			if forbidden(dep) {
				bad = append(bad, dep)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s depends on %s", fields[0], strings.Join(bad, ", "))
		}
	}
	if functions == 0 {
		t.Fatal("go list found no functions/* main package")
	}
}

// forbidden reports whether pkg belongs to one of forbiddenDeps.
func forbidden(pkg string) bool {
	for _, mod := range forbiddenDeps {
		if pkg == mod || strings.HasPrefix(pkg, mod+"/") {
			return true
		}
	}
	return false
}

// stderr returns what a failed command wrote to standard error.
func stderr(err error) string {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
