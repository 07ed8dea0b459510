package gateway

import (
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// finishDocument completes what huma generated from the types, before the
// document is first served (huma caches it then):
//
//   - Answers are evolvable. A response object's schema does not say
//     additionalProperties: false, so a field added later (fields are
//     added, never renamed or removed) is not a breaking change for a
//     client validating against this document; clients must ignore
//     members they do not know, as with Stripe's API. Request bodies stay
//     closed: an unknown member in a request is a mistake (a misspelt
//     field would otherwise be ignored) and is refused with 400.
//   - Every answer carries X-Request-Id.
func finishDocument(doc *huma.OpenAPI) {
	schemas := doc.Components.Schemas.Map()
	inRequests := map[string]bool{}
	var requestRefs func(*huma.Schema)
	requestRefs = func(sc *huma.Schema) {
		each(sc, func(c *huma.Schema) {
			if name, ok := strings.CutPrefix(c.Ref, "#/components/schemas/"); ok && !inRequests[name] {
				inRequests[name] = true
				requestRefs(schemas[name])
			}
		})
	}
	for _, op := range operations(doc) {
		if op.RequestBody != nil {
			for _, mt := range op.RequestBody.Content {
				requestRefs(mt.Schema)
			}
		}
	}
	opened := map[string]bool{}
	var open func(*huma.Schema)
	open = func(sc *huma.Schema) {
		each(sc, func(c *huma.Schema) {
			if c.Type == huma.TypeObject && c.AdditionalProperties == false {
				c.AdditionalProperties = nil
			}
			if name, ok := strings.CutPrefix(c.Ref, "#/components/schemas/"); ok && !opened[name] && !inRequests[name] {
				opened[name] = true
				open(schemas[name])
			}
		})
	}
	rid := &huma.Param{Description: "The request's id: the client's X-Request-Id when it sent one of 1-128 visible ASCII characters, else one the gateway made. It is in the node's log line of the request.",
		Schema: &huma.Schema{Type: huma.TypeString}}
	for _, op := range operations(doc) {
		for _, resp := range op.Responses {
			for _, mt := range resp.Content {
				open(mt.Schema)
			}
			if resp.Headers == nil {
				resp.Headers = map[string]*huma.Param{}
			}
			resp.Headers[RequestIDHeader] = rid
		}
	}
}

// each calls f on sc and every schema inside it (not through $ref).
func each(sc *huma.Schema, f func(*huma.Schema)) {
	if sc == nil {
		return
	}
	f(sc)
	names := make([]string, 0, len(sc.Properties))
	for n := range sc.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		each(sc.Properties[n], f)
	}
	each(sc.Items, f)
	if ap, ok := sc.AdditionalProperties.(*huma.Schema); ok {
		each(ap, f)
	}
	for _, l := range [][]*huma.Schema{sc.OneOf, sc.AnyOf, sc.AllOf} {
		for _, c := range l {
			each(c, f)
		}
	}
	each(sc.Not, f)
}

func operations(doc *huma.OpenAPI) []*huma.Operation {
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []*huma.Operation
	for _, p := range paths {
		it := doc.Paths[p]
		for _, op := range []*huma.Operation{it.Get, it.Put, it.Post, it.Delete, it.Options, it.Head, it.Patch, it.Trace} {
			if op != nil {
				out = append(out, op)
			}
		}
	}
	return out
}
