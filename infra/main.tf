locals {
  # Every action of functions/main.py is one function with that entry point.
  actions    = ["create", "suspend", "unsuspend", "terminate", "upgrade", "password", "sso", "usage", "check"]
  source_zip = coalesce(var.source_zip, "${path.module}/../dist/isphooks-src.zip")
  # Content-hashed object name: a code change uploads a new object and redeploys.
  source_object = "${var.name_prefix}-src-${filesha256(local.source_zip)}.zip"
  services = [
    "artifactregistry.googleapis.com", "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com", "cloudscheduler.googleapis.com", "run.googleapis.com",
    "secretmanager.googleapis.com", "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.services)
  service            = each.key
  disable_on_destroy = false
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:holds only the function source archive (no customer data); reads and writes are recorded by Cloud Audit Logs
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_bucket
  labels                      = var.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 5
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "source" {
  name   = local.source_object
  bucket = google_storage_bucket.source.name
  source = local.source_zip
}

resource "google_cloudfunctions2_function" "action" {
  #checkov:skip=CKV_GCP_124:billing systems call from the internet and every request is authenticated by its webhook signature or OIDC token; set var.ingress_settings to ALLOW_INTERNAL_AND_GCLB behind a load balancer
  for_each    = toset(local.actions)
  name        = "${var.name_prefix}-${each.key}"
  location    = var.region
  description = "isphooks ${each.key}: signed-webhook provisioning for ISPmanager"
  labels      = var.labels

  build_config {
    runtime         = var.runtime
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = var.memory
    available_cpu                    = "1"
    timeout_seconds                  = var.function_timeout_s
    max_instance_count               = var.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = var.concurrency
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime.email

    environment_variables = {
      ISPHOOKS_SECRETS           = "gcp:${google_secret_manager_secret.config.id}"
      ISPHOOKS_SECRETS_TTL       = tostring(var.secrets_ttl_s)
      ISPHOOKS_REQUEST_TIMEOUT_S = tostring(var.function_timeout_s)
    }
  }

  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.runtime_reads_config,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_reads_source,
  ]
}
