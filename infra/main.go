// Command infra is the CDK app (cdk.json runs it): one Number Release stack
// per stage, chosen with `-c stage=prod` (default dev).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/stack"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stage, _ := app.Node().TryGetContext(jsii.String("stage")).(string)
	if stage == "" {
		stage = "dev"
	}
	if stage != "dev" && stage != "prod" {
		fmt.Fprintf(os.Stderr, "unknown stage %q: use -c stage=dev or -c stage=prod\n", stage)
		os.Exit(2)
	}
	stack.New(app, "NumberRelease-"+stage, stack.Config{Stage: stage, Production: stage == "prod"}, &awscdk.StackProps{
		Env: &awscdk.Environment{
			Account: jsii.String(os.Getenv("CDK_DEFAULT_ACCOUNT")),
			Region:  jsii.String(os.Getenv("CDK_DEFAULT_REGION")),
		},
		Description: jsii.String("Number Release: carrier-initiated, customer-approved release of Zoom Phone numbers"),
	})
	app.Synth(nil)
}
