package sources

import "testing"

func TestBuildRefusesValuesTheSDKWouldRewrite(t *testing.T) {
	base := Envelope{ID: "1", Source: "tke.cloud.tencent", Type: "tke:CloudEvent:ApiCall", Record: []byte(`{}`)}
	for _, mutate := range []func(*Envelope){
		func(e *Envelope) { e.ID = " 1 " },
		func(e *Envelope) { e.Source = "tke cloud" },
		func(e *Envelope) { e.Subject = "cls-1 " },
	} {
		env := base
		mutate(&env)
		if _, err := Build(env, NewRedactor(nil)); err == nil {
			t.Errorf("Build(%+v) accepted a value sdk-go rewrites", env)
		}
	}
	if _, err := Build(base, NewRedactor(nil)); err != nil {
		t.Errorf("Build(valid) = %v", err)
	}
}
