package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hoist-dev/hoist/internal/server"
)

var keysHelp = help{
	name: "hoist keys", purpose: "print the key pair a server keeps in its data directory, as the AWS_* variables the AWS CLI and SDKs read",
	usage: "[flags]",
	more: `Use it as: eval "$(hoist keys)". It sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION and AWS_ENDPOINT_URL, so aws gamelift ... and hoist build upload need no
more flags.`,
}

// runKeys is `hoist keys`: the server's key pair as shell exports.
func runKeys(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("hoist keys", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./hoist-data", "the server's data `directory`")
	endpoint := fs.String("endpoint", "http://127.0.0.1:9080", "the server's API endpoint `URL`")
	region := fs.String("region", "us-west-2", "the server's `Region`")
	rest, err := parseFlags(fs, keysHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(keysHelp, rest); err != nil {
		return err
	}
	c, err := server.LoadCredentials(*dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=%s\nexport AWS_ENDPOINT_URL=%s\n",
		c.AccessKeyID, c.SecretAccessKey, *region, *endpoint)
	return nil
}
