package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// zoomTokensPurpose is the "purpose" member of the encryption context every
// seal and unseal of a customer's Zoom tokens carries (the other member is
// "zoom_account_id"); the functions' KMS grants require it.
const zoomTokensPurpose = "zoom-oauth-tokens"

// zoomTokensContextKey is the IAM condition key of that member.
const zoomTokensContextKey = "kms:EncryptionContext:purpose"

// newZoomTokensKey declares the customer managed key that seals the Zoom
// OAuth tokens the customers' admins grant (envelope encryption: a data key
// per seal from kms:GenerateDataKey, opened again with kms:Decrypt, both
// with the encryption context). It is a symmetric key rotated yearly, kept
// with the table (removalPolicy: in production both stay when the stack is
// deleted, since tokens without their key can never be read again), with a
// 30-day pending window should it ever be scheduled for deletion. Its policy
// is the CDK's default one (the account may use and manage it through IAM);
// the functions' IAM grants (grantZoomTokens) say who may use it, and for
// what. The alias follows the stage's names (number-release-<stage>-...);
// an alias is deleted with the stack, so a new stack can take it again.
func newZoomTokensKey(scope constructs.Construct, cfg Config) awskms.Key {
	return awskms.NewKey(scope, jsii.String("ZoomTokensKey"), &awskms.KeyProps{
		Description: jsii.String("Number Release (" + cfg.Stage + "): encrypts the customers' Zoom OAuth tokens " +
			"stored in the table (envelope encryption, encryption context purpose=" + zoomTokensPurpose + ")"),
		Alias:             jsii.String("alias/number-release-" + cfg.Stage + "-zoom-tokens"),
		KeySpec:           awskms.KeySpec_SYMMETRIC_DEFAULT,
		KeyUsage:          awskms.KeyUsage_ENCRYPT_DECRYPT,
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removalPolicy(cfg),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
}

// grantZoomTokens lets fn seal and unseal Zoom tokens with key: exactly
// kms:GenerateDataKey and kms:Decrypt, and only for requests whose
// encryption context says they are Zoom tokens. No kms:Encrypt (nothing
// is encrypted with the key directly), no ReEncrypt, no GenerateDataKey*
// variants.
func grantZoomTokens(fn awslambda.Function, key awskms.IKey) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{key.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{zoomTokensContextKey: zoomTokensPurpose},
		},
	}))
}
