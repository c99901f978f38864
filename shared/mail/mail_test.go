package mail

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

type fakeSES struct {
	in  *sesv2.SendEmailInput
	err error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	return &sesv2.SendEmailOutput{}, f.err
}

func TestSESSend(t *testing.T) {
	tests := []struct {
		name    string
		from    string
		to      []string
		sesErr  error
		wantErr bool
	}{
		{name: "sent", from: "noreply@example.com", to: []string{"a@acme.example", "b@acme.example"}},
		{name: "no sender", to: []string{"a@acme.example"}, wantErr: true},
		{name: "no recipients", from: "noreply@example.com", wantErr: true},
		{name: "ses refuses", from: "noreply@example.com", to: []string{"a@acme.example"}, sesErr: errors.New("MessageRejected"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSES{err: tt.sesErr}
			err := (&SES{Client: f, From: tt.from}).Send(context.Background(), tt.to, "subject", "body")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send = %v; want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if aws.ToString(f.in.FromEmailAddress) != tt.from || len(f.in.Destination.ToAddresses) != 2 ||
				aws.ToString(f.in.Content.Simple.Subject.Data) != "subject" || aws.ToString(f.in.Content.Simple.Body.Text.Data) != "body" {
				t.Fatalf("SendEmail input = %+v", f.in)
			}
		})
	}
}
