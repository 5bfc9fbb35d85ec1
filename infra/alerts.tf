# Alerts on deliveries that keep failing, from the functions' own structured logs: one JSON
# object per request on stdout, which Cloud Logging stores under jsonPayload (action,
# outcome, http_status, service_id, ...; docs/operations.md, Logs).
# Log-based metrics: https://cloud.google.com/logging/docs/logs-based-metrics and the
# provider's google_logging_metric (filter, metric_descriptor, label_extractors).
# Alert policies: https://cloud.google.com/monitoring/alerts/concepts-indepth and the
# provider's google_monitoring_alert_policy (condition_threshold with denominator_filter
# for a ratio, aggregations, notification_channels, documentation).

locals {
  # Every request log line of our functions that an authenticated caller made (Cloud Run
  # serves gen2 functions; the service is named after the function). The functions log
  # `auth` ("signature" or "oidc") only once a request is authenticated: unsigned traffic
  # (the 401s of anyone on the internet) can neither raise the 5xx ratio nor dilute it
  # below the threshold.
  request_logs  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=~\"^${var.name_prefix}-\" AND jsonPayload.http_status>=100 AND jsonPayload.auth=(\"signature\" OR \"oidc\")"
  metric_prefix = "logging.googleapis.com/user/"
}

# Every delivery, by action and outcome (created, suspended, already_suspended, error...)
# and HTTP status.
resource "google_logging_metric" "deliveries" {
  name        = "${var.name_prefix}/deliveries"
  description = "isphooks deliveries by action, outcome and HTTP status (one per request)."
  filter      = local.request_logs

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "isphooks deliveries"

    labels {
      key         = "action"
      value_type  = "STRING"
      description = "The action (function) that answered."
    }
    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "The answer's status, or error."
    }
    labels {
      key         = "http_status"
      value_type  = "STRING"
      description = "The HTTP status answered."
    }
  }

  label_extractors = {
    "action"      = "EXTRACT(jsonPayload.action)"
    "outcome"     = "EXTRACT(jsonPayload.outcome)"
    "http_status" = "EXTRACT(jsonPayload.http_status)"
  }

  depends_on = [google_project_service.apis]
}

# Answers with a 5xx status (panel unreachable, config unavailable, internal error), by
# action: the numerator of the 5xx ratio.
resource "google_logging_metric" "server_errors" {
  name        = "${var.name_prefix}/server_errors"
  description = "isphooks deliveries answered with a 5xx status, by action."
  filter      = "${local.request_logs} AND jsonPayload.http_status>=500"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "isphooks 5xx answers"

    labels {
      key         = "action"
      value_type  = "STRING"
      description = "The action (function) that answered."
    }
  }

  label_extractors = {
    "action" = "EXTRACT(jsonPayload.action)"
  }

  depends_on = [google_project_service.apis]
}

# Failed deliveries of one billing service, whatever the status: only failures are
# counted, so the service_id label has one value per failing service, not per customer.
resource "google_logging_metric" "service_failures" {
  name        = "${var.name_prefix}/service_failures"
  description = "isphooks failed deliveries by service_id and action."
  filter      = "${local.request_logs} AND jsonPayload.outcome=\"error\" AND jsonPayload.service_id:*"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "isphooks failed deliveries per service"

    labels {
      key         = "service_id"
      value_type  = "STRING"
      description = "The billing system's service id."
    }
    labels {
      key         = "action"
      value_type  = "STRING"
      description = "The action (function) that answered."
    }
  }

  label_extractors = {
    "service_id" = "EXTRACT(jsonPayload.service_id)"
    "action"     = "EXTRACT(jsonPayload.action)"
  }

  depends_on = [google_project_service.apis]
}

# An action answers 5xx to a sustained share of its deliveries.
resource "google_monitoring_alert_policy" "server_error_ratio" {
  display_name          = "isphooks: 5xx answers of an action (above ${var.alert_5xx_ratio * 100}% or ${var.alert_5xx_count} in 10 min)"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = var.labels

  conditions {
    display_name = "5xx / deliveries, per action, above ${var.alert_5xx_ratio}"
    condition_threshold {
      filter             = "metric.type=\"${local.metric_prefix}${google_logging_metric.server_errors.name}\" AND resource.type=\"cloud_run_revision\""
      denominator_filter = "metric.type=\"${local.metric_prefix}${google_logging_metric.deliveries.name}\" AND resource.type=\"cloud_run_revision\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_5xx_ratio
      duration           = "300s"

      # Numerator and denominator: same alignment and the same label (action).
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.action"]
      }
      denominator_aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.action"]
      }
    }
  }

  # Beside the ratio, an absolute count: however much other traffic an action gets, this
  # many 5xx answers within 10 minutes are an incident.
  conditions {
    display_name = "5xx answers of an action, above ${var.alert_5xx_count} in 10 minutes"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_prefix}${google_logging_metric.server_errors.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_5xx_count
      duration        = "0s"

      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.action"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      More than ${var.alert_5xx_ratio * 100}% of an action's deliveries over the last 10
      minutes were answered with 5xx, for 5 minutes, or more than ${var.alert_5xx_count}
      of them were (only authenticated requests count). The billing system and the scheduler
      retry 5xx, but provisioning is stalled until the cause is fixed. Look at the
      function's ERROR lines (`jsonPayload.code`): `panel_unavailable` (a panel is down or
      unreachable), `panel_error`, `config_unavailable` (the config secret cannot be
      read), `internal` (a bug: the traceback is in the line).
    EOT
  }

  depends_on = [google_project_service.apis]
}

# One billing service keeps failing, whatever the status.
resource "google_monitoring_alert_policy" "service_failing" {
  display_name          = "isphooks: one service keeps failing"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = var.labels

  conditions {
    display_name = "failed deliveries of one service_id above ${var.alert_service_failures}"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_prefix}${google_logging_metric.service_failures.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_service_failures
      duration        = "0s"

      aggregations {
        alignment_period     = "${var.alert_service_window_s}s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service_id"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The same service_id failed more than ${var.alert_service_failures} times within
      ${var.alert_service_window_s} s (metric label service_id). A delivery the billing
      system keeps retrying, or a scheduled retry, does not succeed: look at that
      service's lines (`jsonPayload.service_id="..."`) for the code and the message, e.g.
      `invalid_request` (the billing module sends a bad field), `account_not_found`,
      `unowned_account` (the panel account belongs to another service), `no_capacity`,
      `panel_rejected` or `panel_unavailable`.
    EOT
  }

  depends_on = [google_project_service.apis]
}
