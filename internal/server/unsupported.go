package server

// Why Hoist answers these operations of GameLift's model with UnsupportedRegionException.
// Every operation of the model is either answered (routes.go) or listed here; README's
// operation table says the same.
const (
	whyVPC     = "VPC peering connects GameLift's fleets to your AWS VPCs; Hoist's hosts are on networks you run"
	whyAccess  = "GameLift gives remote access to its instances through AWS Systems Manager; reach Hoist's hosts the way you reach your other machines"
	whyScripts = "Realtime scripts run on GameLift's Realtime Servers; Hoist hosts builds of your own game server (CreateBuild)"
	whyFleetIQ = "FleetIQ game server groups drive EC2 Auto Scaling groups in your AWS account; Hoist places sessions on fleets it runs"
	whyUpload  = "builds are uploaded to Hoist itself, not to S3: run `hoist build upload DIR`"
)

var unsupported = map[string]string{
	"CreateVpcPeeringAuthorization":    whyVPC,
	"CreateVpcPeeringConnection":       whyVPC,
	"DeleteVpcPeeringAuthorization":    whyVPC,
	"DeleteVpcPeeringConnection":       whyVPC,
	"DescribeVpcPeeringAuthorizations": whyVPC,
	"DescribeVpcPeeringConnections":    whyVPC,

	"GetInstanceAccess": whyAccess,
	"GetComputeAccess":  whyAccess,

	"CreateScript":   whyScripts,
	"DeleteScript":   whyScripts,
	"DescribeScript": whyScripts,
	"ListScripts":    whyScripts,
	"UpdateScript":   whyScripts,

	"ClaimGameServer":             whyFleetIQ,
	"CreateGameServerGroup":       whyFleetIQ,
	"DeleteGameServerGroup":       whyFleetIQ,
	"DescribeGameServerGroup":     whyFleetIQ,
	"DescribeGameServerInstances": whyFleetIQ,
	"ListGameServerGroups":        whyFleetIQ,
	"ResumeGameServerGroup":       whyFleetIQ,
	"SuspendGameServerGroup":      whyFleetIQ,
	"UpdateGameServerGroup":       whyFleetIQ,
	"RegisterGameServer":          whyFleetIQ,
	"DeregisterGameServer":        whyFleetIQ,
	"DescribeGameServer":          whyFleetIQ,
	"ListGameServers":             whyFleetIQ,
	"UpdateGameServer":            whyFleetIQ,

	"RequestUploadCredentials": whyUpload,
}
