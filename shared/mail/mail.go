// Package mail sends the service's emails to people: the Mailer interface,
// and its Amazon SES implementation for AWS. The local harness keeps its
// messages in an outbox instead (shared/harness/outbox).
package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// Mailer sends one plain-text email to its recipients.
type Mailer interface {
	Send(ctx context.Context, to []string, subject, body string) error
}

// SESClient is the part of the SES v2 API the SES mailer calls.
type SESClient interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends through Amazon SES from a verified sender identity.
type SES struct {
	Client SESClient
	// From is the sender address: a verified SES identity (or an address
	// of a verified domain).
	From string
}

var _ Mailer = (*SES)(nil)

// Send sends one email; every address in to is a To recipient.
func (s *SES) Send(ctx context.Context, to []string, subject, body string) error {
	if s.From == "" {
		return errors.New("send email: no sender address configured")
	}
	if len(to) == 0 {
		return errors.New("send email: no recipients")
	}
	_, err := s.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.From),
		Destination:      &types.Destination{ToAddresses: to},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(body), Charset: aws.String("UTF-8")}},
		}},
	})
	if err != nil {
		return fmt.Errorf("send email %q to %s: %w", subject, strings.Join(to, ", "), err)
	}
	return nil
}
