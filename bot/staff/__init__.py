"""Staff tools: identity and access, the audit log, the review-and-reply workflow and regulations lookup."""
