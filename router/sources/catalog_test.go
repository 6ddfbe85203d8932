package sources

import (
	"strings"
	"testing"
)

func TestCatalogRows(t *testing.T) {
	entries, err := parseCatalog(catalogTSV)
	if err != nil {
		t.Fatal(err)
	}
	// Tencent's table lists 28 TKE, 4 CCR and 41 CCS operations.
	perProduct := map[string]int{}
	for _, e := range entries {
		perProduct[e.Product]++
	}
	want := map[string]int{"tke": 28, "ccr": 4, "ccs": 41}
	if len(entries) != 73 || len(perProduct) != len(want) {
		t.Fatalf("%d rows over %v, want 73 over %v", len(entries), perProduct, want)
	}
	for p, n := range want {
		if perProduct[p] != n {
			t.Errorf("%s: %d rows, want %d", p, perProduct[p], n)
		}
	}
}

func TestLookupEvent(t *testing.T) {
	tests := []struct {
		product, name string
		want          CatalogEntry
	}{
		{"tke", "DeleteCluster", CatalogEntry{"tke", "tke", "DeleteCluster", "删除集群"}},
		{"ccs", "DeleteCluster", CatalogEntry{"ccs", "ccs", "DeleteCluster", "删除集群"}},
		{"ccr", "BatchDeleteRepository", CatalogEntry{"ccr", "ccr", "BatchDeleteRepository", "批量删除镜像仓库"}},
		{"ccr", "BatchDeleteTag", CatalogEntry{"ccr", "ccr", "BatchDeleteTag", "批量删除镜像 Tag"}},
		// Markdown escapes are undone; Tencent's spelling is kept.
		{"tke", "CreateClusterEndpointVip", CatalogEntry{"tke", "tke", "CreateClusterEndpointVip", "开启集群访问端口(托管集群外网)"}},
		{"ccs", "MosifyIngress", CatalogEntry{"ccs", "ccs", "MosifyIngress", "修改负载均衡"}},
		{"ccs", "RollbackClusterService", CatalogEntry{"ccs", "ccs", "RollbackClusterService", "回滚服务"}},
	}
	for _, tt := range tests {
		got, ok := LookupEvent(tt.product, tt.name)
		if !ok || got != tt.want {
			t.Errorf("LookupEvent(%q, %q) = %+v, %v; want %+v", tt.product, tt.name, got, ok, tt.want)
		}
	}
	for _, miss := range [][2]string{{"ccr", "DeleteCluster"}, {"tke", "deletecluster"}, {"", "DeleteCluster"}} {
		if e, ok := LookupEvent(miss[0], miss[1]); ok {
			t.Errorf("LookupEvent(%q, %q) = %+v, want not found", miss[0], miss[1], e)
		}
	}
}

func TestKnownEventName(t *testing.T) {
	for _, name := range []string{"DeleteCluster", "BatchDeleteRepository", "UpgradeClusterRelease", "DescribeServiceInstance"} {
		if !KnownEventName(name) {
			t.Errorf("KnownEventName(%q) = false", name)
		}
	}
	for _, name := range []string{"", "DescribeInstances", "deletecluster"} {
		if KnownEventName(name) {
			t.Errorf("KnownEventName(%q) = true", name)
		}
	}
}

func TestParseCatalogRejects(t *testing.T) {
	tests := []struct{ name, tsv, want string }{
		{"header", "a\tb\tc\td\n", "header"},
		{"columns", catalogHeader + "\ntke\ttke\tDeleteCluster\n", "line 2"},
		{"empty name", catalogHeader + "\ntke\ttke\t\tx\n", "line 2"},
		{"duplicate", catalogHeader + "\ntke\ttke\tA\tx\ntke\ttke\tA\ty\n", "line 3: tke A is listed twice"},
	}
	for _, tt := range tests {
		_, err := parseCatalog(tt.tsv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}
