package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

const groupARNPrefix = "arn:aws:gamelift:us-west-2:123456789012:containergroupdefinition/"

func gameServerContainer() *types.GameServerContainerDefinitionInput {
	return &types.GameServerContainerDefinitionInput{
		ContainerName:    aws.String("game"),
		ImageUri:         aws.String("123456789012.dkr.ecr.us-west-2.amazonaws.com/game:1"),
		ServerSdkVersion: aws.String("5.2.0"),
		PortConfiguration: &types.ContainerPortConfiguration{ContainerPortRanges: []types.ContainerPortRange{
			{FromPort: aws.Int32(7777), ToPort: aws.Int32(7780), Protocol: types.IpProtocolUdp},
		}},
		EnvironmentOverride: []types.ContainerEnvironment{{Name: aws.String("MODE"), Value: aws.String("ranked")}},
	}
}

func supportContainer(name string) types.SupportContainerDefinitionInput {
	return types.SupportContainerDefinitionInput{
		ContainerName: aws.String(name), ImageUri: aws.String("123456789012.dkr.ecr.us-west-2.amazonaws.com/" + name + ":1"),
	}
}

func gameServerGroup(name string) *gl.CreateContainerGroupDefinitionInput {
	return &gl.CreateContainerGroupDefinitionInput{
		Name: aws.String(name), ContainerGroupType: types.ContainerGroupTypeGameServer,
		OperatingSystem:           types.ContainerOperatingSystemAmazonLinux2023,
		TotalMemoryLimitMebibytes: aws.Int32(2048), TotalVcpuLimit: aws.Float64(2),
		GameServerContainerDefinition: gameServerContainer(),
	}
}

func perInstanceGroup(name string) *gl.CreateContainerGroupDefinitionInput {
	logs := supportContainer("logs")
	logs.Essential = aws.Bool(true)
	return &gl.CreateContainerGroupDefinitionInput{
		Name: aws.String(name), ContainerGroupType: types.ContainerGroupTypePerInstance,
		OperatingSystem:           types.ContainerOperatingSystemAmazonLinux2023,
		TotalMemoryLimitMebibytes: aws.Int32(512), TotalVcpuLimit: aws.Float64(0.5),
		SupportContainerDefinitions: []types.SupportContainerDefinitionInput{logs},
	}
}

func TestContainerGroupDefinitionCreate(t *testing.T) {
	_, api := start(t, t.TempDir())
	ctx := context.Background()

	in := gameServerGroup("arena")
	sidecar := supportContainer("metrics")
	sidecar.MemoryHardLimitMebibytes, sidecar.Vcpu = aws.Int32(256), aws.Float64(0.25)
	sidecar.HealthCheck = &types.ContainerHealthCheck{Command: []string{"CMD-SHELL", "true"}}
	in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{sidecar}
	in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("metrics"), Condition: types.ContainerDependencyConditionHealthy}}
	in.VersionDescription = aws.String("first")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}
	d := must(api.CreateContainerGroupDefinition(ctx, in))(t).ContainerGroupDefinition
	if aws.ToString(d.ContainerGroupDefinitionArn) != groupARNPrefix+"arena:1" || aws.ToInt32(d.VersionNumber) != 1 ||
		d.Status != types.ContainerGroupDefinitionStatusReady || d.CreationTime == nil || aws.ToString(d.VersionDescription) != "first" {
		t.Fatalf("created %+v", d)
	}
	if d.ContainerGroupType != types.ContainerGroupTypeGameServer || aws.ToString(d.GameServerContainerDefinition.ContainerName) != "game" ||
		len(d.SupportContainerDefinitions) != 1 || aws.ToInt32(d.SupportContainerDefinitions[0].MemoryHardLimitMebibytes) != 256 {
		t.Fatalf("containers %+v", d)
	}

	// ContainerGroupType defaults to GAME_SERVER.
	def := gameServerGroup("plain")
	def.ContainerGroupType = ""
	if d := must(api.CreateContainerGroupDefinition(ctx, def))(t).ContainerGroupDefinition; d.ContainerGroupType != types.ContainerGroupTypeGameServer {
		t.Fatalf("default type %q", d.ContainerGroupType)
	}

	p := must(api.CreateContainerGroupDefinition(ctx, perInstanceGroup("daemons")))(t).ContainerGroupDefinition
	if p.ContainerGroupType != types.ContainerGroupTypePerInstance || p.GameServerContainerDefinition != nil {
		t.Fatalf("per-instance %+v", p)
	}

	_, err := api.CreateContainerGroupDefinition(ctx, gameServerGroup("arena"))
	if msg := apiError(t, err, "InvalidRequestException"); !strings.Contains(msg, "exists") {
		t.Fatalf("duplicate name: %s", msg)
	}

	// Tags of the definition, by its ARN with or without a version.
	for _, arn := range []string{groupARNPrefix + "arena", groupARNPrefix + "arena:1"} {
		tags := must(api.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: aws.String(arn)}))(t).Tags
		if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
			t.Fatalf("%s: tags %+v", arn, tags)
		}
	}
	must(api.TagResource(ctx, &gl.TagResourceInput{ResourceARN: aws.String(groupARNPrefix + "daemons"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))(t)
	if tags := must(api.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: aws.String(groupARNPrefix + "daemons")}))(t).Tags; len(tags) != 1 {
		t.Fatalf("tags after TagResource %+v", tags)
	}
	_, err = api.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: aws.String(groupARNPrefix + "nowhere")})
	apiError(t, err, "NotFoundException")
}

func TestContainerGroupDefinitionInvalid(t *testing.T) {
	_, api := start(t, t.TempDir())
	ctx := context.Background()
	cases := []struct {
		name   string
		change func(*gl.CreateContainerGroupDefinitionInput)
		want   string
	}{
		{"game server group without game server", func(in *gl.CreateContainerGroupDefinitionInput) { in.GameServerContainerDefinition = nil }, "needs a GameServerContainerDefinition"},
		{"per-instance group with game server", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.ContainerGroupType = types.ContainerGroupTypePerInstance
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{supportContainer("a")}
			in.SupportContainerDefinitions[0].Essential = aws.Bool(true)
		}, "has no GameServerContainerDefinition"},
		{"per-instance group without containers", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.ContainerGroupType, in.GameServerContainerDefinition = types.ContainerGroupTypePerInstance, nil
		}, "at least one support container"},
		{"per-instance group with no essential container", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.ContainerGroupType, in.GameServerContainerDefinition = types.ContainerGroupTypePerInstance, nil
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{supportContainer("a")}
		}, "essential"},
		{"nine support containers", func(in *gl.CreateContainerGroupDefinitionInput) {
			for i := range 9 {
				in.SupportContainerDefinitions = append(in.SupportContainerDefinitions, supportContainer(fmt.Sprintf("s%d", i)))
			}
		}, "at most 8 support containers"},
		{"unknown type", func(in *gl.CreateContainerGroupDefinitionInput) { in.ContainerGroupType = "DAEMON" }, "containerGroupType"},
		{"unknown operating system", func(in *gl.CreateContainerGroupDefinitionInput) { in.OperatingSystem = "WINDOWS_2022" }, "operatingSystem"},
		{"total memory too small", func(in *gl.CreateContainerGroupDefinitionInput) { in.TotalMemoryLimitMebibytes = aws.Int32(3) }, "totalMemoryLimitMebibytes"},
		{"total vCPU too small", func(in *gl.CreateContainerGroupDefinitionInput) { in.TotalVcpuLimit = aws.Float64(0.1) }, "TotalVcpuLimit"},
		{"total vCPU too large", func(in *gl.CreateContainerGroupDefinitionInput) { in.TotalVcpuLimit = aws.Float64(10.5) }, "TotalVcpuLimit"},
		{"containers' memory over the total", func(in *gl.CreateContainerGroupDefinitionInput) {
			a, b := supportContainer("a"), supportContainer("b")
			a.MemoryHardLimitMebibytes, b.MemoryHardLimitMebibytes = aws.Int32(1024), aws.Int32(1025)
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a, b}
		}, "add up to 2049"},
		{"containers' vCPU over the total", func(in *gl.CreateContainerGroupDefinitionInput) {
			a, b := supportContainer("a"), supportContainer("b")
			a.Vcpu, b.Vcpu = aws.Float64(1.5), aws.Float64(1)
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a, b}
		}, "add up to 2.5"},
		{"container vCPU too small", func(in *gl.CreateContainerGroupDefinitionInput) {
			a := supportContainer("a")
			a.Vcpu = aws.Float64(0.1)
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a}
		}, "Vcpu must be between"},
		{"two containers with one name", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{supportContainer("game")}
		}, "named game"},
		{"bad container name", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.ContainerName = aws.String("game server")
		}, "containerName"},
		{"no port ranges", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.PortConfiguration.ContainerPortRanges = []types.ContainerPortRange{}
		}, "containerPortRanges"},
		{"port range backwards", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.PortConfiguration.ContainerPortRanges[0].FromPort = aws.Int32(8000)
		}, "above ToPort"},
		{"port out of range", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.PortConfiguration.ContainerPortRanges[0].ToPort = aws.Int32(60001)
		}, "toPort"},
		{"old server SDK", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.ServerSdkVersion = aws.String("5.1.9")
		}, "too old"},
		{"malformed server SDK", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.ServerSdkVersion = aws.String("latest")
		}, "serverSdkVersion"},
		{"bad image URI", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.ImageUri = aws.String("not an image")
		}, "imageUri"},
		{"depends on itself", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("game"), Condition: types.ContainerDependencyConditionStart}}
		}, "depends on itself"},
		{"depends on a stranger", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerDependencyConditionStart}}
		}, "not a container of the group"},
		{"depends twice on one container", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{supportContainer("a")}
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{
				{ContainerName: aws.String("a"), Condition: types.ContainerDependencyConditionStart},
				{ContainerName: aws.String("a"), Condition: types.ContainerDependencyConditionComplete}}
		}, "twice"},
		{"unknown condition", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{supportContainer("a")}
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("a"), Condition: "READY"}}
		}, "condition"},
		{"COMPLETE on the game server", func(in *gl.CreateContainerGroupDefinitionInput) {
			a := supportContainer("a")
			a.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("game"), Condition: types.ContainerDependencyConditionComplete}}
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a}
		}, "essential container never may"},
		{"SUCCESS on an essential container", func(in *gl.CreateContainerGroupDefinitionInput) {
			a := supportContainer("a")
			a.Essential = aws.Bool(true)
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a}
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("a"), Condition: types.ContainerDependencyConditionSuccess}}
		}, "essential container never may"},
		{"HEALTHY without a health check", func(in *gl.CreateContainerGroupDefinitionInput) {
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{supportContainer("a")}
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("a"), Condition: types.ContainerDependencyConditionHealthy}}
		}, "no HealthCheck"},
		{"a dependency cycle", func(in *gl.CreateContainerGroupDefinitionInput) {
			a, b := supportContainer("a"), supportContainer("b")
			a.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("b"), Condition: types.ContainerDependencyConditionStart}}
			b.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("game"), Condition: types.ContainerDependencyConditionStart}}
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a, b}
			in.GameServerContainerDefinition.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("a"), Condition: types.ContainerDependencyConditionStart}}
		}, "cycle"},
		{"health check interval too short", func(in *gl.CreateContainerGroupDefinitionInput) {
			a := supportContainer("a")
			a.HealthCheck = &types.ContainerHealthCheck{Command: []string{"true"}, Interval: aws.Int32(5)}
			in.SupportContainerDefinitions = []types.SupportContainerDefinitionInput{a}
		}, "interval"},
		{"bad name", func(in *gl.CreateContainerGroupDefinitionInput) { in.Name = aws.String("my group") }, "name"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := gameServerGroup(fmt.Sprintf("bad-%d", i))
			c.change(in)
			_, err := api.CreateContainerGroupDefinition(ctx, in)
			if msg := apiError(t, err, "InvalidRequestException"); !strings.Contains(msg, c.want) {
				t.Fatalf("message %q does not say %q", msg, c.want)
			}
		})
	}
	// A per-instance group of ten support containers is fine; eleven the model refuses.
	in := perInstanceGroup("ten")
	for i := range 9 {
		in.SupportContainerDefinitions = append(in.SupportContainerDefinitions, supportContainer(fmt.Sprintf("s%d", i)))
	}
	must(api.CreateContainerGroupDefinition(ctx, in))(t)
	if list := must(api.ListContainerGroupDefinitions(ctx, &gl.ListContainerGroupDefinitionsInput{}))(t).ContainerGroupDefinitions; len(list) != 1 {
		t.Fatalf("invalid definitions were kept: %d listed", len(list))
	}
}

func TestContainerGroupDefinitionVersions(t *testing.T) {
	_, api := start(t, t.TempDir())
	ctx := context.Background()
	must(api.CreateContainerGroupDefinition(ctx, gameServerGroup("arena")))(t)

	// Update makes version 2 from the latest, with only what is given changed.
	sidecar := supportContainer("metrics")
	v2 := must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{
		Name: aws.String("arena"), TotalMemoryLimitMebibytes: aws.Int32(4096), VersionDescription: aws.String("more memory"),
		SupportContainerDefinitions: []types.SupportContainerDefinitionInput{sidecar},
	}))(t).ContainerGroupDefinition
	if aws.ToInt32(v2.VersionNumber) != 2 || aws.ToString(v2.ContainerGroupDefinitionArn) != groupARNPrefix+"arena:2" ||
		aws.ToInt32(v2.TotalMemoryLimitMebibytes) != 4096 || aws.ToFloat64(v2.TotalVcpuLimit) != 2 ||
		len(v2.SupportContainerDefinitions) != 1 || aws.ToString(v2.VersionDescription) != "more memory" {
		t.Fatalf("version 2 %+v", v2)
	}
	// From version 1 by its ARN: version 3 has version 1's memory, and no support container.
	v3 := must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{
		Name: aws.String(groupARNPrefix + "arena:1"), TotalVcpuLimit: aws.Float64(4),
	}))(t).ContainerGroupDefinition
	if aws.ToInt32(v3.VersionNumber) != 3 || aws.ToInt32(v3.TotalMemoryLimitMebibytes) != 2048 || len(v3.SupportContainerDefinitions) != 0 {
		t.Fatalf("version 3 %+v", v3)
	}
	// An empty list removes version 2's support container.
	v4 := must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{
		Name: aws.String("arena"), SourceVersionNumber: aws.Int32(2), SupportContainerDefinitions: []types.SupportContainerDefinitionInput{},
	}))(t).ContainerGroupDefinition
	if aws.ToInt32(v4.VersionNumber) != 4 || len(v4.SupportContainerDefinitions) != 0 || aws.ToInt32(v4.TotalMemoryLimitMebibytes) != 4096 {
		t.Fatalf("version 4 %+v", v4)
	}
	// An update that breaks a rule makes no version.
	_, err := api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("arena"), TotalVcpuLimit: aws.Float64(20)})
	apiError(t, err, "InvalidRequestException")
	_, err = api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("arena"), SourceVersionNumber: aws.Int32(9)})
	apiError(t, err, "NotFoundException")
	_, err = api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("nowhere")})
	apiError(t, err, "NotFoundException")

	// Describe: the latest, or a version by number or by ARN.
	describe := func(name string, version *int32) *types.ContainerGroupDefinition {
		t.Helper()
		return must(api.DescribeContainerGroupDefinition(ctx, &gl.DescribeContainerGroupDefinitionInput{Name: aws.String(name), VersionNumber: version}))(t).ContainerGroupDefinition
	}
	if d := describe("arena", nil); aws.ToInt32(d.VersionNumber) != 4 {
		t.Fatalf("latest is version %d", aws.ToInt32(d.VersionNumber))
	}
	if d := describe("arena", aws.Int32(2)); aws.ToInt32(d.TotalMemoryLimitMebibytes) != 4096 || aws.ToInt32(d.VersionNumber) != 2 {
		t.Fatalf("version 2 described %+v", d)
	}
	if d := describe(groupARNPrefix+"arena:3", nil); aws.ToInt32(d.VersionNumber) != 3 {
		t.Fatalf("by versioned ARN: version %d", aws.ToInt32(d.VersionNumber))
	}
	if d := describe(groupARNPrefix+"arena", nil); aws.ToInt32(d.VersionNumber) != 4 {
		t.Fatalf("by ARN: version %d", aws.ToInt32(d.VersionNumber))
	}
	_, err = api.DescribeContainerGroupDefinition(ctx, &gl.DescribeContainerGroupDefinitionInput{Name: aws.String(groupARNPrefix + "arena:3"), VersionNumber: aws.Int32(2)})
	apiError(t, err, "InvalidRequestException")
	_, err = api.DescribeContainerGroupDefinition(ctx, &gl.DescribeContainerGroupDefinitionInput{Name: aws.String("arena"), VersionNumber: aws.Int32(7)})
	apiError(t, err, "NotFoundException")
	_, err = api.DescribeContainerGroupDefinition(ctx, &gl.DescribeContainerGroupDefinitionInput{Name: aws.String("nowhere")})
	apiError(t, err, "NotFoundException")

	// Versions, latest first, a page at a time.
	versions := func() []int32 {
		t.Helper()
		var got []int32
		var token *string
		for {
			out := must(api.ListContainerGroupDefinitionVersions(ctx, &gl.ListContainerGroupDefinitionVersionsInput{
				Name: aws.String("arena"), Limit: aws.Int32(3), NextToken: token}))(t)
			for _, d := range out.ContainerGroupDefinitions {
				got = append(got, aws.ToInt32(d.VersionNumber))
			}
			if token = out.NextToken; token == nil {
				return got
			}
		}
	}
	if got := fmt.Sprint(versions()); got != "[4 3 2 1]" {
		t.Fatalf("versions %s", got)
	}
	_, err = api.ListContainerGroupDefinitionVersions(ctx, &gl.ListContainerGroupDefinitionVersionsInput{Name: aws.String("nowhere")})
	apiError(t, err, "NotFoundException")

	// Delete one version, by number or ARN; then keep the newest two.
	must(api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena"), VersionNumber: aws.Int32(2)}))(t)
	if got := fmt.Sprint(versions()); got != "[4 3 1]" {
		t.Fatalf("after deleting version 2: %s", got)
	}
	_, err = api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena"), VersionNumber: aws.Int32(2)})
	apiError(t, err, "NotFoundException")
	_, err = api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena"), VersionNumber: aws.Int32(1), VersionCountToRetain: aws.Int32(1)})
	apiError(t, err, "InvalidRequestException")
	must(api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String(groupARNPrefix + "arena:4")}))(t)
	if got := fmt.Sprint(versions()); got != "[3 1]" {
		t.Fatalf("after deleting version 4 by ARN: %s", got)
	}
	// Numbers are not given twice: the next version is 5, though 4 is gone.
	v5 := must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("arena")}))(t).ContainerGroupDefinition
	if aws.ToInt32(v5.VersionNumber) != 5 {
		t.Fatalf("next version %d", aws.ToInt32(v5.VersionNumber))
	}
	must(api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena"), VersionCountToRetain: aws.Int32(1)}))(t)
	if got := fmt.Sprint(versions()); got != "[5]" {
		t.Fatalf("after keeping one: %s", got)
	}
	_, err = api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena"), VersionNumber: aws.Int32(5)})
	if msg := apiError(t, err, "InvalidRequestException"); !strings.Contains(msg, "only version") {
		t.Fatalf("deleting the only version: %s", msg)
	}

	// Delete the whole definition: it, and its tags, are gone.
	must(api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena")}))(t)
	_, err = api.DescribeContainerGroupDefinition(ctx, &gl.DescribeContainerGroupDefinitionInput{Name: aws.String("arena")})
	apiError(t, err, "NotFoundException")
	_, err = api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("arena")})
	apiError(t, err, "NotFoundException")
	_, err = api.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: aws.String(groupARNPrefix + "arena")})
	apiError(t, err, "NotFoundException")
	// The name is free again.
	must(api.CreateContainerGroupDefinition(ctx, gameServerGroup("arena")))(t)
}

func TestContainerGroupDefinitionList(t *testing.T) {
	_, api := start(t, t.TempDir())
	ctx := context.Background()
	for i := range 5 {
		must(api.CreateContainerGroupDefinition(ctx, gameServerGroup(fmt.Sprintf("game-%d", i))))(t)
	}
	for i := range 2 {
		must(api.CreateContainerGroupDefinition(ctx, perInstanceGroup(fmt.Sprintf("daemon-%d", i))))(t)
	}
	must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("game-0"), TotalVcpuLimit: aws.Float64(3)}))(t)

	list := func(kind types.ContainerGroupType) map[string]int32 {
		t.Helper()
		got := map[string]int32{}
		var token *string
		for pages := 0; ; pages++ {
			out := must(api.ListContainerGroupDefinitions(ctx, &gl.ListContainerGroupDefinitionsInput{
				ContainerGroupType: kind, Limit: aws.Int32(2), NextToken: token}))(t)
			if len(out.ContainerGroupDefinitions) > 2 || pages > 10 {
				t.Fatalf("page of %d", len(out.ContainerGroupDefinitions))
			}
			for _, d := range out.ContainerGroupDefinitions {
				if kind != "" && d.ContainerGroupType != kind {
					t.Fatalf("%s listed for type %s", aws.ToString(d.Name), kind)
				}
				got[aws.ToString(d.Name)] = aws.ToInt32(d.VersionNumber)
			}
			if token = out.NextToken; token == nil {
				return got
			}
		}
	}
	if got := list(""); len(got) != 7 || got["game-0"] != 2 {
		t.Fatalf("all: %v", got)
	}
	if got := list(types.ContainerGroupTypeGameServer); len(got) != 5 {
		t.Fatalf("GAME_SERVER: %v", got)
	}
	if got := list(types.ContainerGroupTypePerInstance); len(got) != 2 || got["daemon-1"] != 1 {
		t.Fatalf("PER_INSTANCE: %v", got)
	}
	_, err := api.ListContainerGroupDefinitions(ctx, &gl.ListContainerGroupDefinitionsInput{NextToken: aws.String("bogus")})
	apiError(t, err, "InvalidRequestException")
	_, err = api.ListContainerGroupDefinitions(ctx, &gl.ListContainerGroupDefinitionsInput{Limit: aws.Int32(101)})
	apiError(t, err, "InvalidRequestException")
}

func TestContainerGroupDefinitionVersionLimit(t *testing.T) {
	_, api := start(t, t.TempDir())
	ctx := context.Background()
	must(api.CreateContainerGroupDefinition(ctx, perInstanceGroup("busy")))(t)
	for range 99 {
		must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("busy")}))(t)
	}
	_, err := api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("busy")})
	if msg := apiError(t, err, "LimitExceededException"); !strings.Contains(msg, "100 versions") {
		t.Fatalf("101st version: %s", msg)
	}
	// Deleting old versions makes room.
	must(api.DeleteContainerGroupDefinition(ctx, &gl.DeleteContainerGroupDefinitionInput{Name: aws.String("busy"), VersionCountToRetain: aws.Int32(10)}))(t)
	if d := must(api.UpdateContainerGroupDefinition(ctx, &gl.UpdateContainerGroupDefinitionInput{Name: aws.String("busy")}))(t).ContainerGroupDefinition; aws.ToInt32(d.VersionNumber) != 101 {
		t.Fatalf("after making room: version %d", aws.ToInt32(d.VersionNumber))
	}
}
