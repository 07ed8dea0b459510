package main

import (
	"github.com/bytepoints/bytepoints/node"
)

// homeSeller is the seller id of --home, or "" when it has none.
func homeSeller(g *globals) string {
	c, err := node.LoadAppConfig(g.home)
	if err != nil {
		return ""
	}
	return c.SellerID
}
