package rulestest

// product is one Tencent Cloud product as its CloudAudit records name it.
// writes are the operations rules watch; reads are operations no generated
// rule names, which is what most audit traffic is.
type product struct {
	code, resType, idPrefix, idParam, apiVersion string
	writes, reads                                []string
}

// products are the products specific rules are written for. Operation
// names are real API actions of each product; tke's are all in the
// CloudAudit catalog (router/sources/catalog.tsv), so `auditbus rules
// validate` has nothing to warn about in a generated file.
var products = []product{
	{"cvm", "instance", "ins-", "InstanceIds", "2017-03-12",
		[]string{"RunInstances", "TerminateInstances", "StopInstances", "RebootInstances", "ResetInstance", "ModifyInstancesAttribute", "ResetInstancesPassword", "AssociateInstancesKeyPairs", "ModifyInstancesChargeType", "ResizeInstanceDisks"},
		[]string{"DescribeInstances", "DescribeInstancesStatus", "DescribeImages", "DescribeKeyPairs"}},
	{"tke", "cluster", "cls-", "ClusterId", "2018-05-25",
		[]string{"DeleteCluster", "CreateClusterEndpoint", "CreateClusterEndpointVip", "DeleteClusterEndpoint", "DeleteClusterEndpointVip", "DeleteClusterInstances", "CreateClusterInstances", "ModifyClusterAttribute", "AddExistedInstances", "DrainClusterNode", "DeleteClusterAsGroups", "ModifyClusterEndpointSP", "UpgradeClusterRelease"},
		[]string{"DescribeClusterInstances", "DescribeClusterEndpointStatus", "DescribeClusterAsGroups", "DescribeClusterReleases", "DescribeClusterSecurity"}},
	{"cos", "bucket", "bkt-", "Bucket", "2018-11-26",
		[]string{"DeleteBucket", "PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "DeleteObject", "PutBucketEncryption"},
		[]string{"GetObject", "HeadBucket", "GetBucketAcl", "GetBucket"}},
	{"cam", "role", "role-", "RoleName", "2019-01-16",
		[]string{"AttachRolePolicy", "DetachRolePolicy", "CreateRole", "DeleteRole", "UpdateAssumeRolePolicy", "AttachUserPolicy", "CreateAccessKey", "DeleteAccessKey", "UpdateRoleDescription", "PutRolePermissionsBoundary"},
		[]string{"GetRole", "ListAttachedRolePolicies", "GetUser", "ListUsers", "DescribeRoleList"}},
	{"cbs", "disk", "disk-", "DiskIds", "2017-03-12",
		[]string{"CreateDisks", "TerminateDisks", "AttachDisks", "DetachDisks", "ResizeDisk", "CreateSnapshot", "DeleteSnapshots", "ModifyDiskAttributes"},
		[]string{"DescribeDisks", "DescribeSnapshots", "DescribeDiskConfigQuota"}},
	{"clb", "clb", "lb-", "LoadBalancerId", "2018-03-17",
		[]string{"CreateLoadBalancer", "DeleteLoadBalancer", "CreateListener", "DeleteListener", "ModifyListener", "RegisterTargets", "DeregisterTargets", "SetLoadBalancerSecurityGroups"},
		[]string{"DescribeLoadBalancers", "DescribeListeners", "DescribeTargets", "DescribeTargetHealth"}},
	{"vpc", "vpc", "vpc-", "VpcId", "2017-03-12",
		[]string{"CreateVpc", "DeleteVpc", "CreateSubnet", "DeleteSubnet", "CreateSecurityGroupPolicies", "DeleteSecurityGroupPolicies", "ModifySecurityGroupPolicies", "ReplaceRoutes", "AllocateAddresses", "ReleaseAddresses"},
		[]string{"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeRouteTables"}},
	{"cdb", "instanceId", "cdb-", "InstanceId", "2017-03-20",
		[]string{"CreateDBInstance", "IsolateDBInstance", "OfflineIsolatedInstances", "ModifyAccountPassword", "CreateAccounts", "DeleteAccounts", "ModifyAccountPrivileges", "ModifyDBInstanceSecurityGroups", "OpenWanService", "RestartDBInstances"},
		[]string{"DescribeDBInstances", "DescribeAccounts", "DescribeBackups", "DescribeSlowLogs"}},
	{"redis", "instance", "crs-", "InstanceId", "2018-04-12",
		[]string{"CreateInstances", "DestroyPostpaidInstance", "ClearInstance", "ModifyInstancePassword", "ResetPassword", "ModifyNetworkConfig", "UpgradeInstance", "ModifyInstanceParams"},
		[]string{"DescribeInstances", "DescribeInstanceParams", "DescribeSlowLog"}},
	{"mongodb", "instance", "cmgo-", "InstanceId", "2019-07-25",
		[]string{"CreateDBInstance", "IsolateDBInstance", "OfflineIsolatedDBInstance", "ResetDBInstancePassword", "ModifyDBInstanceSpec", "FlushInstanceRouterConfig", "SetAccountUserPrivilege"},
		[]string{"DescribeDBInstances", "DescribeDBBackups", "DescribeSlowLogs"}},
	{"postgres", "instance", "postgres-", "DBInstanceId", "2017-03-12",
		[]string{"CreateInstances", "DestroyDBInstance", "IsolateDBInstances", "ResetAccountPassword", "OpenDBExtranetAccess", "ModifyDBInstanceSecurityGroups", "RestartDBInstance"},
		[]string{"DescribeDBInstances", "DescribeAccounts", "DescribeDBBackups"}},
	{"cfs", "filesystem", "cfs-", "FileSystemId", "2019-07-19",
		[]string{"CreateCfsFileSystem", "DeleteCfsFileSystem", "CreateCfsPGroup", "DeleteCfsPGroup", "CreateCfsRule", "DeleteCfsRule", "UpdateCfsFileSystemSizeLimit"},
		[]string{"DescribeCfsFileSystems", "DescribeCfsPGroups", "DescribeCfsRules"}},
	{"scf", "function", "fn-", "FunctionName", "2018-04-16",
		[]string{"CreateFunction", "DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "CreateTrigger", "DeleteTrigger", "PutReservedConcurrencyConfig"},
		[]string{"GetFunction", "ListFunctions", "GetFunctionLogs"}},
	{"apigateway", "service", "service-", "ServiceId", "2018-08-08",
		[]string{"CreateService", "DeleteService", "ReleaseService", "UnReleaseService", "CreateApi", "DeleteApi", "ModifyApi", "CreateApiKey", "DeleteApiKey"},
		[]string{"DescribeServicesStatus", "DescribeApisStatus", "DescribeApiKeysStatus"}},
	{"ckafka", "instance", "ckafka-", "InstanceId", "2019-08-19",
		[]string{"CreateInstancePre", "DeleteInstancePre", "CreateTopic", "DeleteTopic", "ModifyTopicAttributes", "CreateAcl", "DeleteAcl", "CreateUser", "DeleteUser"},
		[]string{"DescribeInstances", "DescribeTopic", "DescribeConsumerGroup"}},
	{"cls", "topic", "topic-", "TopicId", "2020-10-16",
		[]string{"CreateTopic", "DeleteTopic", "ModifyTopic", "CreateLogset", "DeleteLogset", "CreateShipper", "DeleteShipper", "CreateIndex", "DeleteIndex"},
		[]string{"DescribeTopics", "SearchLog", "DescribeLogsets"}},
	{"ssl", "certificate", "cert-", "CertificateId", "2019-12-05",
		[]string{"UploadCertificate", "DeleteCertificate", "ApplyCertificate", "ReplaceCertificate", "DeployCertificateInstance", "RevokeCertificate"},
		[]string{"DescribeCertificates", "DescribeCertificateDetail", "DownloadCertificate"}},
	{"kms", "key", "kms-", "KeyId", "2019-01-18",
		[]string{"CreateKey", "ScheduleKeyDeletion", "DisableKey", "EnableKey", "UpdateAlias", "DisableKeyRotation", "ImportKeyMaterial", "DeleteImportedKeyMaterial"},
		[]string{"Decrypt", "Encrypt", "DescribeKey", "ListKeys", "GenerateDataKey"}},
	{"ssm", "secret", "secret-", "SecretName", "2019-09-23",
		[]string{"CreateSecret", "DeleteSecret", "UpdateSecret", "PutSecretValue", "RotateSecret", "DisableSecret", "RestoreSecret"},
		[]string{"GetSecretValue", "DescribeSecret", "ListSecrets"}},
	{"tcr", "instance", "tcr-", "RegistryId", "2019-09-24",
		[]string{"CreateInstance", "DeleteInstance", "CreateRepository", "DeleteRepository", "DeleteImage", "CreateNamespace", "DeleteNamespace", "ManageExternalEndpoint", "CreateInstanceToken"},
		[]string{"DescribeRepositories", "DescribeImages", "DescribeInstances"}},
	{"cdn", "domain", "cdn-", "Domain", "2018-06-06",
		[]string{"AddCdnDomain", "DeleteCdnDomain", "UpdateDomainConfig", "StopCdnDomain", "StartCdnDomain", "PurgeUrlsCache", "PurgePathCache", "PushUrlsCache"},
		[]string{"DescribeDomains", "DescribeDomainsConfig", "DescribeCdnData"}},
	{"dnspod", "domain", "dom-", "Domain", "2021-03-23",
		[]string{"CreateRecord", "DeleteRecord", "ModifyRecord", "CreateDomain", "DeleteDomain", "ModifyDomainStatus", "ModifyRecordStatus", "ModifyDomainLock"},
		[]string{"DescribeRecordList", "DescribeDomainList", "DescribeRecord"}},
	{"waf", "instance", "waf-", "InstanceId", "2018-01-25",
		[]string{"AddCustomRule", "DeleteCustomRule", "ModifyCustomRuleStatus", "AddDomainWhiteRule", "DeleteDomainWhiteRules", "ModifyProtectionStatus", "DeleteAttackDownloadRecord"},
		[]string{"DescribeCustomRules", "DescribeDomains", "DescribeAttackOverview"}},
	{"antiddos", "bgpip", "bgpip-", "InstanceId", "2020-03-09",
		[]string{"CreateBlackWhiteIpList", "DeleteBlackWhiteIpList", "CreateProtocolBlockConfig", "CreateDDoSGeoIPBlockConfig", "DeleteDDoSGeoIPBlockConfig", "CreateDDoSAI", "ModifyDDoSThreshold"},
		[]string{"DescribeListBGPIPInstances", "DescribeListBlackWhiteIpList", "DescribeDDoSTrend"}},
	{"es", "instance", "es-", "InstanceId", "2018-04-16",
		[]string{"CreateInstance", "DeleteInstance", "UpdateInstance", "RestartInstance", "UpdatePlugins", "UpgradeInstance", "UpdateDictionaries"},
		[]string{"DescribeInstances", "DescribeInstanceLogs", "DescribeInstanceOperations"}},
	{"emr", "cluster", "emr-", "InstanceId", "2019-01-03",
		[]string{"CreateInstance", "TerminateInstance", "ScaleOutInstance", "TerminateTasks", "AddUsersForUserManager", "DeleteUserManagerUserList"},
		[]string{"DescribeInstances", "DescribeClusterNodes", "DescribeUsersForUserManager"}},
	{"tat", "command", "cmd-", "CommandId", "2020-10-28",
		[]string{"CreateCommand", "DeleteCommand", "RunCommand", "InvokeCommand", "ModifyCommand", "CreateInvoker", "DeleteInvoker"},
		[]string{"DescribeCommands", "DescribeInvocations", "DescribeInvocationTasks"}},
	{"as", "group", "asg-", "AutoScalingGroupId", "2018-04-19",
		[]string{"CreateAutoScalingGroup", "DeleteAutoScalingGroup", "ModifyAutoScalingGroup", "CreateLaunchConfiguration", "DeleteLaunchConfiguration", "ScaleOutInstances", "ScaleInInstances", "RemoveInstances", "DisableAutoScalingGroup"},
		[]string{"DescribeAutoScalingGroups", "DescribeAutoScalingActivities", "DescribeLaunchConfigurations"}},
	{"monitor", "policy", "policy-", "PolicyId", "2018-07-24",
		[]string{"CreateAlarmPolicy", "DeleteAlarmPolicies", "ModifyAlarmPolicyStatus", "ModifyAlarmPolicyCondition", "CreateAlarmNotice", "DeleteAlarmNotices", "ModifyAlarmNotice", "UnBindingAllPolicyObject"},
		[]string{"DescribeAlarmPolicies", "DescribeAlarmHistories", "GetMonitorData"}},
	{"cynosdb", "cluster", "cynosdbmysql-", "ClusterId", "2019-01-07",
		[]string{"CreateClusters", "IsolateCluster", "OfflineCluster", "ResetAccountPassword", "ModifyClusterParam", "OpenWan", "CloseWan", "AddInstances"},
		[]string{"DescribeClusters", "DescribeInstances", "DescribeAccounts"}},
	{"lighthouse", "instance", "lhins-", "InstanceIds", "2020-03-24",
		[]string{"CreateInstances", "TerminateInstances", "ResetInstance", "ResetInstancesPassword", "CreateFirewallRules", "DeleteFirewallRules", "ModifyFirewallRules", "RebootInstances"},
		[]string{"DescribeInstances", "DescribeFirewallRules", "DescribeSnapshots"}},
	{"cloudaudit", "track", "track-", "TrackId", "2019-03-19",
		[]string{"StopLogging", "StartLogging", "DeleteAuditTrack", "ModifyAuditTrack", "CreateAuditTrack", "DeleteAudit", "UpdateAudit"},
		[]string{"LookUpEvents", "DescribeAuditTracks", "DescribeEvents"}},
}

// extraProducts appear only in broad "everything from this product" rules
// and the events built for them; no specific rule or no-match event uses
// them, which keeps every match event's rule unique.
var extraProducts = []string{
	"tcb", "vod", "live", "trtc", "sms", "ses", "ccn", "gaap", "dc", "tsf",
	"tse", "tem", "tione", "tbaas", "mps", "ims", "tms", "cwp", "sts", "organization",
	"billing", "tag", "tcaplusdb", "dcdb", "mariadb", "keewidb", "ctsdb", "dts", "dbbrain", "cdwch",
	"oceanus", "wedata", "dlc", "iotexplorer", "iotcloud", "ecm", "bma", "ssa", "cfw", "csip",
	"tcss", "bh", "teo", "ecdn", "chdfs", "goosefs", "tdmq", "apm", "rum", "batch",
	"thpc", "eb", "cat", "ocr", "asr", "tts", "nlp", "tiia", "faceid", "captcha",
	"ccc", "sqlserver", "gme", "gse", "tcm", "cdwpg", "tdcpg", "vdb", "lke", "hai",
}

// extraOps are the operations events of extra products carry.
var extraOps = []string{"CreateInstance", "DeleteInstance", "ModifyInstanceName", "DescribeInstances", "ModifyResourceTags"}

var regions = []string{"ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-nanjing", "ap-hongkong", "ap-singapore", "na-siliconvalley", "eu-frankfurt"}

var accounts = []string{"100000000001", "100000000002", "100012345678", "100098765432"}

// user is who makes a call; root is the account owner, the rest are sub-users
// and roles with their own principal ids.
type user struct{ name, kind, principal string }

var users = []user{
	{"root", "root", ""}, // principal is the account id
	{"ops-admin", "CAMUser", "100000010011"},
	{"ci-bot", "CAMUser", "100000010012"},
	{"alice", "CAMUser", "100000010013"},
	{"bob", "CAMUser", "100000010014"},
	{"tke-deployer", "AssumedRole", "100000010015"},
	{"dba-oncall", "CAMUser", "100000010016"},
}

var userAgents = []string{
	"tencentcloud-sdk-go/3.0.1010 (linux; amd64) terraform-provider-tencentcloud/1.81.90",
	"tencentcloud-sdk-python/3.0.1124 Python/3.11.6 Linux/5.15",
	"console.cloud.tencent.com Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
	"TCCLI/3.0.1051.1 Python/3.10.12 Darwin/23.4.0",
}
