// This file holds the stand-in's gRPC provider: check, diff, create, read, update, delete and invoke, with the
// per-type rules (required inputs, properties that force a replacement) of the resources this program uses.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// versions are the plugin versions the program's SDKs ask the engine for (each SDK's pulumi-plugin.json). The
// odaa SDK asks for none. The rehearsal runs the real odaa plugin (against the fake HSM, in script mode); the
// stand-in answers odaa from the table only when built under that name by hand.
var versions = map[string]string{
	"azure-native": "2.92.3",
	"azuread":      "5.53.7",
	"oci":          "2.20.0",
	"odaa":         "0.1.0",
}

// rule is what the stand-in knows of one resource type: inputs the real provider refuses to go without (dotted
// paths reach into objects), and top-level inputs whose change the real provider can only make by replacing.
type rule struct {
	required []string
	replace  []string
}

// rules cover every type the program registers; a type without one is accepted with no checks and updates in
// place, so that a new resource in the program rehearses before its rule is written.
var rules = map[string]rule{
	"azure-native:resources:ResourceGroup": {replace: []string{"resourceGroupName", "location"}},
	"azure-native:network:VirtualNetwork": {required: []string{"resourceGroupName"},
		replace: []string{"resourceGroupName", "virtualNetworkName", "location"}},
	"azure-native:network:Subnet": {required: []string{"resourceGroupName", "virtualNetworkName"},
		replace: []string{"resourceGroupName", "virtualNetworkName", "subnetName"}},
	"azure-native:network:NetworkSecurityGroup": {required: []string{"resourceGroupName"},
		replace: []string{"resourceGroupName", "networkSecurityGroupName", "location"}},
	"azure-native:keyvault:ManagedHsm": {
		required: []string{"resourceGroupName", "sku.name", "properties.tenantId", "properties.initialAdminObjectIds"},
		replace:  []string{"resourceGroupName", "name", "location", "sku"}},
	"azure-native:network:PrivateEndpoint": {required: []string{"resourceGroupName"},
		replace: []string{"resourceGroupName", "privateEndpointName", "location"}},
	"azure-native:network:PrivateZone": {required: []string{"resourceGroupName"},
		replace: []string{"resourceGroupName", "privateZoneName"}},
	"azure-native:network:VirtualNetworkLink": {required: []string{"resourceGroupName", "privateZoneName"},
		replace: []string{"resourceGroupName", "privateZoneName", "virtualNetworkLinkName"}},
	"azure-native:network:PrivateDnsZoneGroup": {required: []string{"resourceGroupName", "privateEndpointName"},
		replace: []string{"resourceGroupName", "privateEndpointName", "privateDnsZoneGroupName"}},
	"azure-native:resources:Resource": {
		required: []string{"resourceGroupName", "resourceProviderNamespace", "resourceType", "parentResourcePath"},
		replace: []string{"resourceGroupName", "resourceProviderNamespace", "resourceType", "parentResourcePath",
			"resourceName", "location"}},
	"azuread:index/application:Application":           {required: []string{"displayName"}},
	"azuread:index/servicePrincipal:ServicePrincipal": {required: []string{"clientId"}, replace: []string{"clientId"}},
	"azuread:index/applicationPassword:ApplicationPassword": {required: []string{"applicationId"},
		replace: []string{"applicationId", "displayName", "endDate", "endDateRelative", "rotateWhenChanged",
			"startDate"}},
	"oci:Dns/zone:Zone": {required: []string{"compartmentId", "name", "zoneType"},
		replace: []string{"name", "zoneType", "scope", "viewId"}},
	"oci:Dns/rrset:Rrset": {required: []string{"domain", "rtype", "zoneNameOrId"},
		replace: []string{"domain", "rtype", "zoneNameOrId", "scope", "viewId"}},
}

// server plays one provider. State lives with the engine: every call carries what the stand-in returned before.
type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	name, version string
	cloud         *mockcloud.Cloud
}

func newServer(name, version string) *server {
	return &server{name: name, version: version, cloud: mockcloud.New()}
}

var wire = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true}

func unmarshal(s *structpb.Struct, what string) (resource.PropertyMap, error) {
	m, err := plugin.UnmarshalProperties(s, wire)
	if err != nil {
		return nil, fmt.Errorf("standin: decoding %s: %w", what, err)
	}
	return m, nil
}

func marshal(m resource.PropertyMap, what string) (*structpb.Struct, error) {
	s, err := plugin.MarshalProperties(m, wire)
	if err != nil {
		return nil, fmt.Errorf("standin: encoding %s: %w", what, err)
	}
	return s, nil
}

// journalEnv names a file to which the stand-in appends one line per change it makes ("create", "update",
// "delete", the type and the URN; never a value), so that a rehearsal can tell what reached the cloud: the
// engine reports a retained resource's delete too, though it never calls the provider for it.
const journalEnv = "STANDIN_JOURNAL"

func journal(op string, urn resource.URN) error {
	path := os.Getenv(journalEnv)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("standin: opening the journal %s: %w", path, err)
	}
	_, err = fmt.Fprintf(f, "%s %s %s\n", op, urn.Type(), urn)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("standin: writing the journal %s: %w", path, err)
	}
	return nil
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

func (s *server) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (
	*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (s *server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true, SupportsPreview: true}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// Check refuses a registration that lacks a required input, as the real provider would before any call.
func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews(), "inputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for _, path := range rules[resource.URN(req.GetUrn()).Type().String()].required {
		if !present(news, path) {
			failures = append(failures, &pulumirpc.CheckFailure{Property: path,
				Reason: fmt.Sprintf("missing required property %q", path)})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

// present reports whether a dotted path names a non-null value; an unknown value counts, since it will be set.
func present(m resource.PropertyMap, path string) bool {
	head, rest, nested := strings.Cut(path, ".")
	v, ok := m[resource.PropertyKey(head)]
	for ok && v.IsSecret() {
		v = v.SecretValue().Element
	}
	switch {
	case !ok || v.IsNull():
		return false
	case !nested || v.IsComputed() || v.IsOutput():
		return true
	case v.IsObject():
		return present(v.ObjectValue(), rest)
	}
	return false
}

// Diff compares the old inputs with the new ones, key by key, and marks a change to a replace-only property as
// a replacement.
func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	// States written before the engine kept inputs have only outputs, which hold the inputs too.
	oldInputs := req.GetOldInputs()
	if oldInputs == nil {
		oldInputs = req.GetOlds()
	}
	olds, err := unmarshal(oldInputs, "old inputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "new inputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	replaceKeys := rules[resource.URN(req.GetUrn()).Type().String()].replace
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for k := range keys {
		o, hadOld := olds[k]
		n, hasNew := news[k]
		if hadOld && hasNew && !n.ContainsUnknowns() && o.DeepEquals(n) {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case !hadOld:
			kind = pulumirpc.PropertyDiff_ADD
		case !hasNew:
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if slices.Contains(replaceKeys, string(k)) {
			kind = replacing[kind]
			resp.Replaces = append(resp.Replaces, string(k))
		}
		resp.Diffs = append(resp.Diffs, string(k))
		resp.DetailedDiff[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	sort.Strings(resp.Diffs)
	sort.Strings(resp.Replaces)
	return resp, nil
}

// replacing turns a change's kind into the same change forcing a replacement.
var replacing = map[pulumirpc.PropertyDiff_Kind]pulumirpc.PropertyDiff_Kind{
	pulumirpc.PropertyDiff_ADD:    pulumirpc.PropertyDiff_ADD_REPLACE,
	pulumirpc.PropertyDiff_DELETE: pulumirpc.PropertyDiff_DELETE_REPLACE,
	pulumirpc.PropertyDiff_UPDATE: pulumirpc.PropertyDiff_UPDATE_REPLACE,
}

// Create answers from the shared table. In a preview, what the table computes is not known yet, and says so.
func (s *server) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	urn := resource.URN(req.GetUrn())
	inputs, err := unmarshal(req.GetProperties(), "inputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	id, outputs := s.cloud.Create(urn.Type().String(), urn.Name(), inputs)
	if req.GetPreview() {
		id, outputs = "", unknownWhereComputed(inputs, outputs, nil)
	} else if err := journal("create", urn); err != nil {
		return nil, err
	}
	props, err := marshal(outputs, "outputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Update recomputes the outputs from the new inputs; the ID stays, as an update in place keeps it.
func (s *server) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	urn := resource.URN(req.GetUrn())
	news, err := unmarshal(req.GetNews(), "new inputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "state of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	_, outputs := s.cloud.Create(urn.Type().String(), urn.Name(), news)
	if req.GetPreview() {
		outputs = unknownWhereComputed(news, outputs, olds)
	} else if err := journal("update", urn); err != nil {
		return nil, err
	}
	props, err := marshal(outputs, "outputs of "+req.GetUrn())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// unknownWhereComputed marks as unknown every output the table added or changed, unless the resource already
// had that value: a preview cannot know what the cloud will compute.
func unknownWhereComputed(inputs, outputs, olds resource.PropertyMap) resource.PropertyMap {
	res := resource.PropertyMap{}
	for k, out := range outputs {
		in, isInput := inputs[k]
		old, hadOld := olds[k]
		switch {
		case isInput && in.DeepEquals(out), hadOld && old.DeepEquals(out):
			res[k] = out
		case isInput && in.IsObject() && out.IsObject():
			var oldObj resource.PropertyMap
			if hadOld && old.IsObject() {
				oldObj = old.ObjectValue()
			}
			res[k] = resource.NewObjectProperty(unknownWhereComputed(in.ObjectValue(), out.ObjectValue(), oldObj))
		default:
			res[k] = resource.MakeComputed(resource.NewStringProperty(""))
		}
	}
	return res
}

// Read returns the state the engine holds: the stand-in's cloud is that state.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *server) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := journal("delete", resource.URN(req.GetUrn())); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// Invoke answers the functions the program calls from the shared table.
func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.GetArgs(), "arguments of "+req.GetTok())
	if err != nil {
		return nil, err
	}
	result, err := s.cloud.Function(req.GetTok(), args)
	if err != nil {
		return nil, fmt.Errorf("standin %s: %w", s.name, err)
	}
	ret, err := marshal(result, "result of "+req.GetTok())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}
