package jsiienv

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// childMode makes the test binary, started again by TestNoBannerOnSynthesis,
// run one CDK call and exit: "silenced" after SilenceEndOfLifeNode, "plain"
// without it.
const childMode = "JSIIENV_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childMode); mode != "" {
		if mode == "silenced" {
			SilenceEndOfLifeNode()
		}
		awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.TempDir())}).Synth(nil)
		jsii.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// banner is the start of jsii's end-of-life message.
const banner = "is end-of-life and not supported anymore"

// The CDK app (and its tests) start a jsii kernel that prints no end-of-life
// banner, although the variable is set only in main, after the CDK packages'
// init.
func TestNoBannerOnSynthesis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the CDK's Node.js kernel (jsii); not run with -short")
	}
	run := func(mode string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childMode+"="+mode)
		// The test's own environment must not decide the outcome.
		cmd.Env = append(cmd.Env, EndOfLifeVar+"=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %s: %v\n%s", mode, err, out)
		}
		return string(out)
	}
	if !strings.Contains(run("plain"), banner) {
		t.Skip("this Node.js is not at jsii's end of life: no banner to silence")
	}
	if out := run("silenced"); strings.Contains(out, banner) {
		t.Errorf("jsii printed its end-of-life banner after SilenceEndOfLifeNode:\n%s", out)
	}
}
