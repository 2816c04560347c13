package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/server"
)

var keysHelp = help{
	name: "hoist keys", purpose: "print the key pair a server keeps in its data directory, as the AWS_* variables the AWS CLI and SDKs read; or manage access keys",
	usage: "[flags] | create --name NAME --allow OPS | list | delete NAME",
	more: `Use it as: eval "$(hoist keys)". It sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION and AWS_ENDPOINT_URL (the endpoint of the last server started with
--data-dir), so aws gamelift ... and hoist build upload need no more flags; for a server
with a self-signed certificate (--tls-self-signed), AWS_CA_BUNDLE too.

hoist keys create, list and delete manage the keys of a running server; see
hoist keys create --help.`,
}

var keysCreateHelp = help{
	name: "hoist keys create", purpose: "make an access key allowed only the operations given, on a running server",
	usage:       "--name NAME --allow OPS [flags]",
	credentials: "a key allowed the operation (an admin key, or one allowed hoist:CreateAccessKey, hoist:ListAccessKeys or hoist:DeleteAccessKey): HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or else the key pair in --data-dir",
	more: `OPS is a comma-separated list of operation names, prefixes ending in *, or * for every
operation (an admin key). Hoist's own operations are reached only by * or by a prefix
starting hoist: (hoist:CreateAccessKey, hoist:*). A key may make, list and delete only keys
allowed no more than itself. For a game backend:

  hoist keys create --name backend --allow 'CreateGameSession,CreatePlayerSession*,Describe*,Search*'

It prints the new key pair; with --output json exactly {"AccessKeyId": ..., "SecretAccessKey": ...}.
The secret is shown once: the server never shows it again.`,
}

var keysListHelp = help{
	name: "hoist keys list", purpose: "list the access keys of a running server (never their secrets)",
	usage: "[flags]", credentials: keysCreateHelp.credentials,
}

var keysDeleteHelp = help{
	name: "hoist keys delete", purpose: "delete an access key of a running server; calls signed with it are refused from then on",
	usage: "NAME [flags]", credentials: keysCreateHelp.credentials,
	more: `To rotate a key: create a new one, move its users to it, then delete the old one. The last
admin key cannot be deleted.`,
}

// runKeys is `hoist keys`: the server's key pair as shell exports, or a key operation.
func runKeys(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return runKeysCreate(ctx, args[1:], stdout)
		case "list":
			return runKeysList(ctx, args[1:], stdout)
		case "delete":
			return runKeysDelete(ctx, args[1:], stdout)
		}
	}
	fs := flag.NewFlagSet("hoist keys", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./hoist-data", "the server's data `directory`")
	endpoint := fs.String("endpoint", "", "the server's API endpoint `URL` (default: the last server started with --data-dir, else "+defaultEndpoint+")")
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
	reach, err := endpointOf(*dataDir, *endpoint)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_DEFAULT_REGION=%s\nexport AWS_ENDPOINT_URL=%s\n",
		c.AccessKeyID, c.SecretAccessKey, *region, reach.Endpoint)
	if reach.CABundle != "" {
		fmt.Fprintf(stdout, "export %s=%s\n", certs.EnvCABundle, reach.CABundle)
	}
	return nil
}

// defaultEndpoint is where the commands look for a server none was recorded for.
const defaultEndpoint = "http://127.0.0.1:9080"

// endpointOf is how to reach the server: at endpoint when given, else as the last server
// started with dataDir recorded there, else at defaultEndpoint. The self-signed
// certificate to trust comes with the recorded endpoint only.
func endpointOf(dataDir, endpoint string) (server.Reach, error) {
	if endpoint != "" {
		return server.Reach{Endpoint: endpoint}, nil
	}
	r, err := server.LoadReach(dataDir)
	if err != nil {
		return r, err
	}
	if r.Endpoint == "" {
		r.Endpoint = defaultEndpoint
	}
	return r, nil
}

// keyClient calls Hoist's key operations, signed as the AWS CLI signs GameLift calls.
type keyClient struct {
	endpoint, region string
	creds            aws.Credentials
	http             *http.Client
}

// keyFlags are the flags every key operation takes.
func keyFlags(fs *flag.FlagSet) func() (keyClient, error) {
	endpoint := fs.String("endpoint", "", "the server's API endpoint `URL` (default: the last server started with --data-dir, else "+defaultEndpoint+")")
	region := fs.String("region", firstSet("AWS_DEFAULT_REGION", "AWS_REGION"), "the `Region` to sign for (us-west-2 when unset)")
	dataDir := fs.String("data-dir", "./hoist-data", "the server's data `directory`, whose first key pair signs when no key is in the environment")
	return func() (keyClient, error) {
		reach, err := endpointOf(*dataDir, *endpoint)
		if err != nil {
			return keyClient{}, err
		}
		c := keyClient{endpoint: strings.TrimSuffix(reach.Endpoint, "/"), region: *region}
		// Calls trust $AWS_CA_BUNDLE, and the server's self-signed certificate.
		if c.http, err = certs.HTTPClient(30*time.Second, reach.CABundle); err != nil {
			return c, err
		}
		if c.region == "" {
			c.region = "us-west-2"
		}
		id, secret := firstSet("HOIST_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"), firstSet("HOIST_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
		if id == "" || secret == "" {
			file, err := server.LoadCredentials(*dataDir)
			if err != nil {
				return c, fmt.Errorf("no key to sign with: set HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY to an admin key (%w)", err)
			}
			id, secret = file.AccessKeyID, file.SecretAccessKey
		}
		c.creds = aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
		return c, nil
	}
}

// call sends Hoist.<op> with in as its JSON body and decodes the answer into out.
func (c keyClient) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Hoist."+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "gamelift", c.region, time.Now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("is hoist server running at %s? %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) != nil || e.Type == "" {
			return fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, bytes.TrimSpace(b))
		}
		return fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

type shownKey struct {
	AccessKeyId     string
	SecretAccessKey string
	Name            string
	Allow           []string
	CreationTime    time.Time
}

func outputFlag(fs *flag.FlagSet) *string {
	return fs.String("output", "text", "`format` of what is printed: text or json")
}

func checkOutput(h help, output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("%s: --output is text or json, not %q", h.name, output)
	}
	return nil
}

func runKeysCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(keysCreateHelp.name, flag.ContinueOnError)
	name := fs.String("name", "", "the key's `name`, unique among the server's keys")
	allow := fs.String("allow", "", "the `operations` the key may call: names, prefixes ending in *, or *")
	output := outputFlag(fs)
	client := keyFlags(fs)
	rest, err := parseFlags(fs, keysCreateHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(keysCreateHelp, rest); err != nil {
		return err
	}
	if err := checkOutput(keysCreateHelp, *output); err != nil {
		return err
	}
	if *name == "" || *allow == "" {
		return errors.New("hoist keys create: give --name and --allow (see hoist keys create --help)")
	}
	c, err := client()
	if err != nil {
		return err
	}
	var ops []string
	for op := range strings.SplitSeq(*allow, ",") {
		if op = strings.TrimSpace(op); op != "" {
			ops = append(ops, op)
		}
	}
	var out struct{ AccessKey shownKey }
	if err := c.call(ctx, "CreateAccessKey", map[string]any{"Name": *name, "Allow": ops}, &out); err != nil {
		return err
	}
	k := out.AccessKey
	if *output == "json" {
		b, _ := json.Marshal(struct {
			AccessKeyId     string
			SecretAccessKey string
		}{k.AccessKeyId, k.SecretAccessKey})
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(stdout, "Made key %s, allowed %s. Its secret is shown this once:\n\n  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n",
		k.Name, strings.Join(k.Allow, ","), k.AccessKeyId, k.SecretAccessKey)
	return nil
}

func runKeysList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(keysListHelp.name, flag.ContinueOnError)
	output := outputFlag(fs)
	client := keyFlags(fs)
	rest, err := parseFlags(fs, keysListHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(keysListHelp, rest); err != nil {
		return err
	}
	if err := checkOutput(keysListHelp, *output); err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return err
	}
	var out struct{ AccessKeys []shownKey }
	if err := c.call(ctx, "ListAccessKeys", struct{}{}, &out); err != nil {
		return err
	}
	if *output == "json" {
		type listed struct {
			AccessKeyId  string
			Name         string
			Allow        []string
			CreationTime time.Time
		}
		keys := make([]listed, len(out.AccessKeys))
		for i, k := range out.AccessKeys {
			keys[i] = listed{k.AccessKeyId, k.Name, k.Allow, k.CreationTime}
		}
		b, _ := json.MarshalIndent(map[string]any{"AccessKeys": keys}, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tACCESS KEY ID\tALLOW\tCREATED")
	for _, k := range out.AccessKeys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, k.AccessKeyId, strings.Join(k.Allow, ","), k.CreationTime.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func runKeysDelete(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(keysDeleteHelp.name, flag.ContinueOnError)
	client := keyFlags(fs)
	rest, err := parseFlags(fs, keysDeleteHelp, args, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("hoist keys delete takes one key name (see hoist keys delete --help)")
	}
	c, err := client()
	if err != nil {
		return err
	}
	if err := c.call(ctx, "DeleteAccessKey", map[string]string{"Name": rest[0]}, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Deleted key %s.\n", rest[0])
	return nil
}
