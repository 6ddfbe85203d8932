package router_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/auditbus/auditbus/router"
	"github.com/auditbus/auditbus/router/bus"
)

// TestExternalNATSCredsFile: --nats-creds signs in with a credentials
// file (user JWT and seed, as nsc writes it) to a server in operator
// mode, where accounts and users are JWTs; one of another account's user
// is refused.
func TestExternalNATSCredsFile(t *testing.T) {
	operator, _ := nkeys.CreateOperator()
	opPub, _ := operator.PublicKey()
	opClaims := jwt.NewOperatorClaims(opPub)
	opJWT, err := opClaims.Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	account := func(jetStream bool) (nkeys.KeyPair, string, string) {
		kp, _ := nkeys.CreateAccount()
		pub, _ := kp.PublicKey()
		claims := jwt.NewAccountClaims(pub)
		if jetStream {
			claims.Limits.JetStreamLimits = jwt.JetStreamLimits{DiskStorage: -1, MemoryStorage: -1, Streams: -1, Consumer: -1}
		}
		token, err := claims.Encode(operator)
		if err != nil {
			t.Fatal(err)
		}
		return kp, pub, token
	}
	_, sysPub, sysJWT := account(false)
	accKP, accPub, accJWT := account(true)
	opc, err := jwt.DecodeOperatorClaims(opJWT)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	resolver.Store(sysPub, sysJWT)
	resolver.Store(accPub, accJWT)
	ns := runNATS(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, TrustedOperators: []*jwt.OperatorClaims{opc}, SystemAccount: sysPub,
		AccountResolver: resolver})

	credsFor := func(acc nkeys.KeyPair, accPub string) string {
		user, _ := nkeys.CreateUser()
		userPub, _ := user.PublicKey()
		uc := jwt.NewUserClaims(userPub)
		uc.IssuerAccount = accPub
		userJWT, err := uc.Encode(acc)
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := user.Seed()
		creds, err := jwt.FormatUserConfig(userJWT, seed)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, filepath.Join(t.TempDir(), "auditbus.creds"), creds)
	}
	s := start(t, t.TempDir(), func(c *router.Config) {
		c.NATSURL, c.NATSAuth = ns.ClientURL(), bus.ClientAuth{CredsFile: credsFor(accKP, accPub)}
	})
	sendEvent(t, s, "creds-1", "DeleteCluster")
	if n := streamMsgs(t, s); n != 1 {
		t.Errorf("stream holds %d events over a creds-file connection, want 1", n)
	}

	// A user signed by an account the operator does not know.
	strangerKP, strangerPub, _ := account(true)
	if srv, err := router.Start(context.Background(), router.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
		NATSURL: ns.ClientURL(), NATSAuth: bus.ClientAuth{CredsFile: credsFor(strangerKP, strangerPub)}}); err == nil {
		srv.Stop(context.Background())
		t.Error("started with a user of an account the server does not trust")
	}
}
