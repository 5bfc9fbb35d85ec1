locals {
  jobs = merge(
    {
      usage = { action = "usage", schedule = var.usage_schedule, body = "{}" }
      check = { action = "check", schedule = var.check_schedule, body = "{}" }
    },
    var.scheduled_actions,
  )
  # One audience per function: its own run.app URL. The config document's
  # scheduler.audience takes this map (the `scheduler_audience` output), and a function
  # accepts a token only when its `aud` is that function's own URL.
  scheduler_audience = {
    for action in distinct([for job in local.jobs : job.action]) :
    action => google_cloudfunctions2_function.action[action].service_config[0].uri
  }
}

# Cloud Scheduler cannot sign webhooks (its body and headers are static), so it calls with
# a Google-signed OIDC token. Gen2 functions are served by Cloud Run, which expects the
# token's audience to be the service's run.app URL (or a custom audience), so the job
# targets `service_config[0].uri` and uses it as the audience, as the provider's example
# "Cloudfunctions2 Scheduler Auth" does (google_cloudfunctions2_function); Cloud Run:
# https://cloud.google.com/run/docs/authenticating/service-to-service (the audience is the
# receiving service's URL or a custom audience); Cloud Scheduler's OidcToken.audience:
# https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#OidcToken
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
    uri         = local.scheduler_audience[each.value.action]
    body        = base64encode(each.value.body)
    headers     = { "Content-Type" = "application/json" }

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = local.scheduler_audience[each.value.action]
    }
  }

  depends_on = [google_project_service.apis, google_cloud_run_service_iam_member.scheduler]
}
