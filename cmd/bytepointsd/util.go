package main

import (
	"strings"

	"github.com/bytepoints/bytepoints/node"
)

func stringsLower(s, prefix string) string { return strings.ToLower(strings.TrimPrefix(s, prefix)) }

// homeSeller is the seller id of --home, or "" when it has none.
func homeSeller(g *globals) string {
	c, err := node.LoadAppConfig(g.home)
	if err != nil {
		return ""
	}
	return c.SellerID
}
