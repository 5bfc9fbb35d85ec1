"""Who may call: Standard Webhooks signatures and Google OIDC tokens."""
