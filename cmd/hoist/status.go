package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

var statusHelp = help{
	name: "hoist status", purpose: "print the fleets, server processes and live game sessions of a running server, as tables",
	usage:       "[flags]",
	credentials: "a key allowed ListFleets and Describe*: HOIST_ACCESS_KEY_ID and HOIST_SECRET_ACCESS_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or else the key pair in --data-dir",
	more: `It calls the server's GameLift API as any client does (ListFleets, DescribeFleetAttributes,
DescribeFleetUtilization, DescribeGameSessions). Game sessions are those ACTIVATING, ACTIVE
or TERMINATING.`,
}

// liveStatuses are the game session statuses hoist status lists.
var liveStatuses = []types.GameSessionStatus{types.GameSessionStatusActivating, types.GameSessionStatusActive, types.GameSessionStatusTerminating}

// runStatus is `hoist status`.
func runStatus(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(statusHelp.name, flag.ContinueOnError)
	client := keyFlags(fs)
	rest, err := parseFlags(fs, statusHelp, args, stdout)
	if err != nil {
		return err
	}
	if err := noArguments(statusHelp, rest); err != nil {
		return err
	}
	kc, err := client()
	if err != nil {
		return err
	}
	gl := gamelift.New(gamelift.Options{
		Region: kc.region, BaseEndpoint: aws.String(kc.endpoint), HTTPClient: kc.http,
		Credentials: credentials.NewStaticCredentialsProvider(kc.creds.AccessKeyID, kc.creds.SecretAccessKey, ""),
	})
	s, err := readStatus(ctx, gl)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return fmt.Errorf("cannot reach the Hoist server at %s (%v): is hoist server running there? Pass its address with --endpoint", kc.endpoint, op.Err)
		}
		return err
	}
	return s.print(stdout)
}

// status is what hoist status shows.
type status struct {
	fleets   []types.FleetAttributes
	usage    map[string]types.FleetUtilization
	sessions []types.GameSession
}

func readStatus(ctx context.Context, c *gamelift.Client) (status, error) {
	s := status{usage: map[string]types.FleetUtilization{}}
	var ids []string
	for p := gamelift.NewListFleetsPaginator(c, &gamelift.ListFleetsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s, err
		}
		ids = append(ids, page.FleetIds...)
	}
	for batch := range slices.Chunk(ids, 50) {
		for p := gamelift.NewDescribeFleetAttributesPaginator(c, &gamelift.DescribeFleetAttributesInput{FleetIds: batch}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return s, err
			}
			s.fleets = append(s.fleets, page.FleetAttributes...)
		}
		u, err := c.DescribeFleetUtilization(ctx, &gamelift.DescribeFleetUtilizationInput{FleetIds: batch})
		if err != nil {
			return s, err
		}
		for _, fu := range u.FleetUtilization {
			s.usage[aws.ToString(fu.FleetId)] = fu
		}
	}
	for _, id := range ids {
		for _, st := range liveStatuses {
			in := &gamelift.DescribeGameSessionsInput{FleetId: aws.String(id), StatusFilter: aws.String(string(st))}
			for p := gamelift.NewDescribeGameSessionsPaginator(c, in); p.HasMorePages(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					return s, err
				}
				s.sessions = append(s.sessions, page.GameSessions...)
			}
		}
	}
	return s, nil
}

func (s status) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "FLEETS (%d)\n", len(s.fleets))
	fmt.Fprintln(tw, "FLEET ID\tNAME\tSTATUS\tCOMPUTE TYPE\tBUILD")
	for _, f := range s.fleets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", aws.ToString(f.FleetId), aws.ToString(f.Name), f.Status, f.ComputeType, dash(aws.ToString(f.BuildId)))
	}
	fmt.Fprintln(tw, "\nSERVER PROCESSES")
	fmt.Fprintln(tw, "FLEET ID\tACTIVE PROCESSES\tGAME SESSIONS\tPLAYER SESSIONS\tMAX PLAYERS")
	for _, f := range s.fleets {
		u := s.usage[aws.ToString(f.FleetId)]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", aws.ToString(f.FleetId), aws.ToInt32(u.ActiveServerProcessCount), aws.ToInt32(u.ActiveGameSessionCount),
			aws.ToInt32(u.CurrentPlayerSessionCount), aws.ToInt32(u.MaximumPlayerSessionCount))
	}
	fmt.Fprintf(tw, "\nGAME SESSIONS (%d live)\n", len(s.sessions))
	fmt.Fprintln(tw, "GAME SESSION ID\tFLEET ID\tLOCATION\tSTATUS\tPLAYERS\tADDRESS")
	for _, gs := range s.sessions {
		addr := fmt.Sprintf("%s:%d", cmp.Or(aws.ToString(gs.DnsName), aws.ToString(gs.IpAddress)), aws.ToInt32(gs.Port))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\n", aws.ToString(gs.GameSessionId), aws.ToString(gs.FleetId), aws.ToString(gs.Location), gs.Status,
			aws.ToInt32(gs.CurrentPlayerSessionCount), aws.ToInt32(gs.MaximumPlayerSessionCount), addr)
	}
	return tw.Flush()
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
