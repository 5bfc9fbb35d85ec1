output "function_urls" {
  description = "URL of each action's function: configure these in the billing system."
  value       = { for action, fn in google_cloudfunctions2_function.action : action => fn.url }
}

output "function_names" {
  description = "Every deployed function's name (its Cloud Run service has the same name), one per action."
  value       = [for action, fn in google_cloudfunctions2_function.action : fn.name]
}

output "billing_function_names" {
  description = "The billing-facing functions (var.billing_actions): with public_access = \"invoker_check_disabled\", disable the invoker check on these and no other (infra/README.md, Domain restricted sharing)."
  value       = [for action, fn in google_cloudfunctions2_function.action : fn.name if contains(var.billing_actions, action) || contains(local.doors, action)]
}

output "stripe_endpoint_url" {
  description = "The endpoint URL to register in Stripe's dashboard (Developers, Webhooks) for the subscription events (docs/stripe.md); null when var.stripe is false."
  value       = var.stripe ? google_cloudfunctions2_function.action["stripe"].url : null
}

output "secret" {
  description = "The config secret; add its payload with `gcloud secrets versions add`."
  value       = google_secret_manager_secret.config.id
}

output "runtime_service_account" {
  description = "The identity the functions run as."
  value       = google_service_account.runtime.email
}

output "scheduler_service_account" {
  description = "Put this e-mail in the config document's scheduler.service_accounts."
  value       = google_service_account.scheduler.email
}

output "scheduler_audience" {
  description = "Paste `terraform output -json scheduler_audience` as the config document's scheduler.audience: each scheduled action's run.app URL, the audience of its jobs' OIDC tokens."
  value       = local.scheduler_audience
}

output "artifact_repository" {
  description = "The Artifact Registry repository the function images are pushed to."
  value       = google_artifact_registry_repository.functions.id
}

output "config_store" {
  description = "What ISPHOOKS_SECRETS says: the mounted file (config_source = \"volume\") or the secret read through the API (\"api\")."
  value       = local.config_store[var.config_source]
}

output "alert_policies" {
  description = "The alert policies on failing deliveries (infra/README.md, Alerts)."
  value = {
    server_error_ratio = google_monitoring_alert_policy.server_error_ratio.name
    service_failing    = google_monitoring_alert_policy.service_failing.name
  }
}

output "source_object" {
  description = "The content-hashed source archive the functions were built from."
  value       = google_storage_bucket_object.source.name
}

output "egress_ip" {
  description = "With static_egress: the one address every function's outbound traffic leaves from; allow TCP 1500 from it on each panel (infra/README.md, Static egress). null when static_egress is false."
  value       = var.static_egress ? google_compute_address.egress[0].address : null
}
