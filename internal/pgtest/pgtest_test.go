package pgtest

import (
	"context"
	"testing"
)

func TestServerStartsStopsAndRestarts(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	c := s.Conn()
	if _, err := c.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	s.StopServer()
	if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("a closed connection answered")
	}
	s.StartServer()
	var v int
	if err := s.Conn().QueryRow(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != 7 {
		t.Fatalf("after restart: %d %v", v, err)
	}
}
