locals {
  jobs = merge(
    {
      usage = { action = "usage", schedule = var.usage_schedule, body = "{}" }
      check = { action = "check", schedule = var.check_schedule, body = "{}" }
    },
    var.scheduled_actions,
  )
}

# Cloud Scheduler cannot sign webhooks (its body and headers are static), so it calls with
# a Google-signed OIDC token whose audience is the function's URL. List those URLs (the
# `scheduler_audiences` output) in the config document's scheduler.audience.
resource "google_cloud_scheduler_job" "job" {
  for_each    = local.jobs
  name        = "${var.name_prefix}-${each.key}"
  region      = var.region
  description = "isphooks: POST ${each.value.action} on a schedule"
  schedule    = each.value.schedule
  time_zone   = var.time_zone
  # Above the function's own timeout, so a slow run is not retried while still running.
  attempt_deadline = "${var.function_timeout_s + 60}s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
    max_backoff_duration = "900s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.action[each.value.action].url
    body        = base64encode(each.value.body)
    headers     = { "Content-Type" = "application/json" }

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.action[each.value.action].url
    }
  }

  depends_on = [google_project_service.apis]
}
