locals {
  # Every action of functions/main.py is one function with that entry point, and so is each
  # door of its own beside them: `stripe`, Stripe Billing's webhook endpoint (docs/stripe.md).
  actions    = ["create", "suspend", "unsuspend", "terminate", "upgrade", "password", "sso", "usage", "check", "reconcile", "status"]
  doors      = var.stripe ? ["stripe"] : []
  source_zip = coalesce(var.source_zip, "${path.module}/../dist/isphooks-src.zip")
  # Content-hashed object name: a code change uploads a new object. All eleven functions are
  # built from this one archive, so any change rebuilds all eleven.
  source_object = "${var.name_prefix}-src-${filesha256(local.source_zip)}.zip"
  # Where the config secret is mounted (config_source = "volume") and what ISPHOOKS_SECRETS
  # says in each mode.
  config_file = "${var.config_mount_path}/isphooks.json"
  config_store = {
    volume = "file:${local.config_file}"
    api    = "gcp:${google_secret_manager_secret.config.id}"
  }
  services = [
    "artifactregistry.googleapis.com", "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com", "cloudscheduler.googleapis.com",
    # A custom build service account needs the IAM API:
    # https://cloud.google.com/functions/docs/securing/build-custom-sa#enable_apis
    "iam.googleapis.com",
    "logging.googleapis.com", "monitoring.googleapis.com", "run.googleapis.com",
    "secretmanager.googleapis.com", "storage.googleapis.com",
  ]
}

data "google_project" "this" {
  project_id = var.project_id
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

  # Object names carry the archive's hash, so an archive never gets a newer version of its
  # own name: it becomes noncurrent when Terraform replaces the object with the next one.
  # Delete it that many days later (kept until then for a rollback by generation).
  # https://cloud.google.com/storage/docs/lifecycle#dayssincenoncurrenttime and the
  # provider's google_storage_bucket `lifecycle_rule.condition.days_since_noncurrent_time`.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_source_days
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

# The repository the builds push the function images to (build_config.docker_repository),
# so the build account's artifactregistry.writer is granted on this repository alone
# instead of the project ("Alternatively, you can provide your own repository through the
# dockerRepository field": https://cloud.google.com/functions/docs/securing/build-custom-sa).
# Cloud Run pulls images of its own project without further grants:
# https://cloud.google.com/artifact-registry/docs/deploy
resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:the images hold only the open function code and its public dependencies (no secret: the config is mounted from Secret Manager at run time); Google-managed encryption applies
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "isphooks function images built by Cloud Build"
  format        = "DOCKER"
  labels        = var.labels

  depends_on = [google_project_service.apis]
}

resource "google_cloudfunctions2_function" "action" {
  #checkov:skip=CKV_GCP_124:billing systems call from the internet and every request is authenticated by its webhook signature or OIDC token; set var.ingress_settings to ALLOW_INTERNAL_AND_GCLB behind a load balancer
  for_each    = toset(concat(local.actions, local.doors))
  name        = "${var.name_prefix}-${each.key}"
  location    = var.region
  description = "isphooks ${each.key}: signed-webhook provisioning for ISPmanager"
  labels      = var.labels

  build_config {
    runtime           = var.runtime
    entry_point       = each.key
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    # reconcile carries a 2 MiB list and compares it with the server's whole account
    # list: its own memory and concurrency (sized from `make bench`, infra/README.md).
    available_memory                 = each.key == "reconcile" ? var.reconcile_memory : var.memory
    available_cpu                    = "1"
    timeout_seconds                  = var.function_timeout_s
    max_instance_count               = var.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = each.key == "reconcile" ? var.reconcile_concurrency : var.concurrency
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime.email

    # static_egress (egress.tf): ALL of the function's outbound traffic, not only private
    # ranges (the API's default, PRIVATE_RANGES_ONLY), goes through the connector and
    # leaves from the one NAT address; off, neither is set and the function keeps Google's
    # own egress.
    vpc_connector                 = var.static_egress ? google_vpc_access_connector.egress[0].id : null
    vpc_connector_egress_settings = var.static_egress ? "ALL_TRAFFIC" : null

    # The config document as a file: no Secret Manager SDK in the cold start. "When reading
    # a volume, Cloud Run always fetches the secret value from the Secret Manager"
    # (https://cloud.google.com/run/docs/configuring/services/secrets), and the provider
    # recommends `latest` with volumes "as secret value changes are reflected immediately"
    # (google_cloudfunctions2_function, secret_volumes.versions.version): a new version
    # reaches each instance within ISPHOOKS_SECRETS_TTL, as with the API.
    # `secret` is the secret's id, not its full name; `project_id` is required.
    dynamic "secret_volumes" {
      for_each = var.config_source == "volume" ? [local.config_file] : []
      content {
        mount_path = var.config_mount_path
        project_id = var.project_id
        secret     = google_secret_manager_secret.config.secret_id

        versions {
          version = "latest"
          path    = "isphooks.json"
        }
      }
    }

    environment_variables = {
      ISPHOOKS_SECRETS           = local.config_store[var.config_source]
      ISPHOOKS_SECRETS_TTL       = tostring(var.secrets_ttl_s)
      ISPHOOKS_REQUEST_TIMEOUT_S = tostring(var.function_timeout_s)
    }
  }

  # The grants the build and the runtime need, given time to propagate (iam.tf); with
  # static_egress, the NAT, so the first requests already leave from its address.
  depends_on = [
    google_project_service.apis,
    time_sleep.iam_propagation,
    google_compute_router_nat.egress,
  ]
}
