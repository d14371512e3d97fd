// This file tests the stand-in's gRPC answers directly: required inputs, which changes replace and which
// update, previews that leave computed outputs unknown, and functions answered from the shared table.
package main

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

const hsmURN = "urn:pulumi:dev::odaa-adbs-hsm::odaa:components:ManagedHsm$azure-native:keyvault:ManagedHsm::hsm-hsm"

func hsmInputs() resource.PropertyMap {
	return resource.NewPropertyMapFromMap(map[string]any{
		"name": "hsm-odaa-demo-1a2b", "resourceGroupName": "rg", "location": "eastus",
		"tags": map[string]any{"env": "dev"},
		"sku":  map[string]any{"family": "B", "name": "Standard_B1"},
		"properties": map[string]any{
			"tenantId": mockcloud.TenantID, "initialAdminObjectIds": []any{mockcloud.DeployerObjectID},
		},
	})
}

func encode(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m, "test")
	require.NoError(t, err)
	return s
}

func decode(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s, "test")
	require.NoError(t, err)
	return m
}

func diff(t *testing.T, change func(resource.PropertyMap)) *pulumirpc.DiffResponse {
	t.Helper()
	news := hsmInputs()
	change(news)
	resp, err := newServer("azure-native", "2.92.3").Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: hsmURN, OldInputs: encode(t, hsmInputs()), News: encode(t, news)})
	require.NoError(t, err)
	return resp
}

func TestDiffTagsUpdateTheHsmInPlace(t *testing.T) {
	resp := diff(t, func(m resource.PropertyMap) {
		m["tags"] = resource.NewPropertyValue(map[string]any{"env": "dev", "owner": "dba"})
	})
	assert.Equal(t, pulumirpc.DiffResponse_DIFF_SOME, resp.GetChanges())
	assert.Equal(t, []string{"tags"}, resp.GetDiffs())
	assert.Empty(t, resp.GetReplaces())
	assert.Equal(t, pulumirpc.PropertyDiff_UPDATE, resp.GetDetailedDiff()["tags"].GetKind())
}

func TestDiffReplacesTheHsmForLocationSkuOrName(t *testing.T) {
	for key, value := range map[resource.PropertyKey]resource.PropertyValue{
		"location": resource.NewStringProperty("westeurope"),
		"name":     resource.NewStringProperty("hsm-other"),
		"sku": resource.NewPropertyValue(map[string]any{
			"family": "B", "name": "Custom_B32"}),
	} {
		resp := diff(t, func(m resource.PropertyMap) { m[key] = value })
		assert.Equal(t, []string{string(key)}, resp.GetReplaces(), "changing %s", key)
		assert.Equal(t, pulumirpc.PropertyDiff_UPDATE_REPLACE, resp.GetDetailedDiff()[string(key)].GetKind())
	}
}

func TestDiffOfUnchangedInputsIsNone(t *testing.T) {
	resp := diff(t, func(resource.PropertyMap) {})
	assert.Equal(t, pulumirpc.DiffResponse_DIFF_NONE, resp.GetChanges())
	assert.Empty(t, resp.GetDiffs())
}

func TestDiffTreatsAnUnknownReplaceKeyAsAReplacement(t *testing.T) {
	resp := diff(t, func(m resource.PropertyMap) {
		m["resourceGroupName"] = resource.MakeComputed(resource.NewStringProperty(""))
	})
	assert.Equal(t, []string{"resourceGroupName"}, resp.GetReplaces())
}

func TestCheckNamesEachMissingRequiredInput(t *testing.T) {
	in := hsmInputs()
	delete(in, "resourceGroupName")
	delete(in["properties"].ObjectValue(), "tenantId")
	resp, err := newServer("azure-native", "2.92.3").Check(context.Background(),
		&pulumirpc.CheckRequest{Urn: hsmURN, News: encode(t, in)})
	require.NoError(t, err)
	var props []string
	for _, f := range resp.GetFailures() {
		props = append(props, f.GetProperty())
	}
	assert.ElementsMatch(t, []string{"resourceGroupName", "properties.tenantId"}, props)

	resp, err = newServer("azure-native", "2.92.3").Check(context.Background(),
		&pulumirpc.CheckRequest{Urn: hsmURN, News: encode(t, hsmInputs())})
	require.NoError(t, err)
	assert.Empty(t, resp.GetFailures())
}

func TestCreateAnswersFromTheTableAndPreviewLeavesComputedOutputsUnknown(t *testing.T) {
	s := newServer("azure-native", "2.92.3")
	resp, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: hsmURN,
		Properties: encode(t, hsmInputs())})
	require.NoError(t, err)
	wantID, wantOut := mockcloud.New().Create("azure-native:keyvault:ManagedHsm", "hsm-hsm", hsmInputs())
	assert.Equal(t, wantID, resp.GetId())
	assert.True(t, wantOut.DeepEquals(decode(t, resp.GetProperties())))

	resp, err = s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: hsmURN,
		Properties: encode(t, hsmInputs()), Preview: true})
	require.NoError(t, err)
	props := decode(t, resp.GetProperties())["properties"].ObjectValue()
	assert.True(t, props["hsmUri"].IsComputed(), "a preview cannot know the HSM URI")
	assert.Equal(t, mockcloud.TenantID, props["tenantId"].StringValue(), "inputs stay known in a preview")
}

func TestInvokeAnswersFromTheTable(t *testing.T) {
	resp, err := newServer("azure-native", "2.92.3").Invoke(context.Background(),
		&pulumirpc.InvokeRequest{Tok: "azure-native:authorization:getClientConfig", Args: encode(t, nil)})
	require.NoError(t, err)
	assert.Equal(t, mockcloud.TenantID, decode(t, resp.GetReturn())["tenantId"].StringValue())

	_, err = newServer("oci", "2.20.0").Invoke(context.Background(),
		&pulumirpc.InvokeRequest{Tok: "oci:Nope/getNothing:getNothing", Args: encode(t, nil)})
	require.ErrorContains(t, err, "no answer for function oci:Nope/getNothing:getNothing")
}
