package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/hoist-dev/hoist/internal/agent"
)

// runAgent is `hoist agent`: this host runs a fleet's processes for a server elsewhere.
func runAgent(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hoist agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("server", "http://127.0.0.1:9080", "the Hoist server's API endpoint")
	fleetID := fs.String("fleet-id", "", "fleet whose processes this host runs (required)")
	compute := fs.String("compute-name", "", "this host's compute name (required)")
	location := fs.String("location", "", "custom location (Anywhere fleets) or remote location; default: the home Region")
	ip := fs.String("ip", "127.0.0.1", "address players reach this host's game servers on")
	region := fs.String("region", "us-west-2", "Region to sign requests for")
	logDir := fs.String("log-dir", "./hoist-agent/logs", "where each process's output is kept")
	buildDir := fs.String("build-dir", "./hoist-agent/builds", "where the fleet's build is unpacked")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fleetID == "" || *compute == "" {
		return errors.New("--fleet-id and --compute-name are required")
	}
	client, _, err := apiClient(*serverURL, *region)
	if err != nil {
		return err
	}
	return agent.Run(ctx, agent.Config{
		FleetID: *fleetID, ComputeName: *compute, LogDir: *logDir, BuildDir: *buildDir, UploadLogs: true,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
		Control: &agent.APIControl{Client: client, Endpoint: *serverURL, FleetID: *fleetID, ComputeName: *compute,
			Location: *location, IPAddress: *ip},
	})
}

// apiClient is a GameLift client for a Hoist server, with the keys from the environment.
func apiClient(serverURL, region string) (*gamelift.Client, aws.Credentials, error) {
	creds := aws.Credentials{
		AccessKeyID:     firstSet("HOIST_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
		SecretAccessKey: firstSet("HOIST_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, creds, errors.New("set HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) to the server's keys")
	}
	client := gamelift.New(gamelift.Options{
		Region: region, BaseEndpoint: aws.String(serverURL),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
	})
	return client, creds, nil
}

func firstSet(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
