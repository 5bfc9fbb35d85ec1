output "function_urls" {
  description = "URL of each action's function: configure these in the billing system."
  value       = { for action, fn in google_cloudfunctions2_function.action : action => fn.url }
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

output "scheduler_audiences" {
  description = "Put these URLs in the config document's scheduler.audience."
  value       = sort(distinct([for job in local.jobs : google_cloudfunctions2_function.action[job.action].url]))
}

output "source_object" {
  description = "The content-hashed source archive the functions were built from."
  value       = google_storage_bucket_object.source.name
}
