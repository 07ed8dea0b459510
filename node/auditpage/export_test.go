package auditpage

// Gathers counts the gatherings the handler started; Waiting the requests
// waiting for one. Tests only.
func (h *Handler) Gathers() int64 { return h.gathers.Load() }
func (h *Handler) Waiting() int64 { return h.waiting.Load() }
