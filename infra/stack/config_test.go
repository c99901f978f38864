package stack

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

func TestNewRefusesMissingBundles(t *testing.T) {
	dir := t.TempDir()
	if err := writeBundles(dir, FunctionAPI, FunctionNotify); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	_, err := New(app, "Test", Config{Stage: "dev", BuildDir: dir}, nil)
	if err == nil {
		t.Fatal("New succeeded without the webhook and release-tasks bundles")
	}
	msg := err.Error()
	for _, want := range []string{"make build", "webhook/bootstrap", "release-tasks/bootstrap"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	for _, present := range []string{"api/bootstrap", "notify/bootstrap"} {
		if strings.Contains(msg, present) {
			t.Errorf("error %q names the present bundle %s", msg, present)
		}
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Errorf("a refused stack left %d constructs in the app", n)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{Config{Stage: "dev", BuildDir: testBuildDir}, ""},
		{Config{Stage: "prod", Production: true, BuildDir: testBuildDir}, ""},
		{Config{Stage: "", BuildDir: testBuildDir}, "stage"},
		{Config{Stage: "Dev Stage", BuildDir: testBuildDir}, "stage"},
		{Config{Stage: "dev", BuildDir: t.TempDir()}, "make build"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", tt.cfg, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%+v: error %v, want one mentioning %q", tt.cfg, err, tt.wantErr)
		}
	}
}
