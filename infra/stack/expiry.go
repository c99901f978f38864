package stack

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// expiryEvery is how often the expiry sweep runs, in minutes: reminders
// and expiry are due to the day, so a quarter of an hour late is nothing.
const expiryEvery = 15

// newExpiry declares functions/expiry (shared/expiry) and its schedule:
// every expiryEvery minutes it reads the pending partitions of the
// InFlight index, expires the numbers PENDING_APPROVAL for longer than the
// stage's expiryTtlDays and emails the reminders due before (the stage's
// expiryReminderDays) through Amazon SES from senderEmail, publishing each
// reminder on the bus too. Without a
// sender it sends nothing and has no SES permission.
//
// Before each sweep it takes a step of the one-time backfill of the
// pending keys (store.BackfillPending): a filtered Scan of the table, the
// only Scan any function may make, and Puts of the numbers it fixes and of
// its marker (the PutItem it has anyway). Scan has no per-key condition, so
// the grant is the table alone, not its indexes.
func (nr *NumberRelease) newExpiry(cfg Config) awslambda.Function {
	reminders := make([]string, len(cfg.ExpiryReminderDays))
	for i, d := range cfg.ExpiryReminderDays {
		reminders[i] = fmt.Sprint(d * 86400)
	}
	fn := newGoFunction(nr.Stack, FunctionExpiry, cfg, functionOptions{
		timeout: awscdk.Duration_Minutes(jsii.Number(5)),
		env: map[string]*string{
			"TABLE_NAME":       nr.Table.TableName(),
			"EVENT_BUS_NAME":   nr.Bus.EventBusName(),
			"TTL_SECONDS":      jsii.String(fmt.Sprint(cfg.ExpiryTTLDays * 86400)),
			"REMINDER_SECONDS": jsii.String(strings.Join(reminders, ",")),
			"SENDER_EMAIL":     jsii.String(cfg.SenderEmail),
		},
	})
	grantTable(fn, nr.Table, true)
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		// A statement of its own (the Sid keeps CDK from merging it into
		// the store's), so the Scan is visible and tested alone.
		Sid:       jsii.String("BackfillPendingKeysScan"),
		Actions:   jsii.Strings("dynamodb:Scan"),
		Resources: &[]*string{nr.Table.TableArn()},
	}))
	nr.Bus.GrantPutEventsTo(fn, nil)
	if cfg.SenderEmail != "" {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("ses:SendEmail"),
			Resources: senderIdentities(cfg.SenderEmail),
		}))
	}
	awsevents.NewRule(nr.Stack, jsii.String("ExpirySchedule"), &awsevents.RuleProps{
		Description: jsii.String("Number Release (" + cfg.Stage + "): run the expiry sweep"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(expiryEvery))),
		// A missed run is made up by the next one.
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(0),
		})},
	})
	return fn
}

// senderIdentities are the SES identities the sender may be verified as:
// the address itself or its domain (SES authorizes sending against the
// verified one).
func senderIdentities(sender string) *[]*string {
	_, domain, _ := strings.Cut(sender, "@")
	arn := func(identity string) *string {
		return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"+identity), nil)
	}
	return &[]*string{arn(sender), arn(domain)}
}
