# Dedicated identities: the functions never run as the default compute service account.
# Service accounts need the IAM API enabled first.

resource "google_service_account" "runtime" {
  account_id   = "${var.name_prefix}-run"
  display_name = "isphooks functions (runtime)"
  depends_on   = [google_project_service.apis["iam.googleapis.com"]]
}

resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-build"
  display_name = "isphooks functions (build)"
  depends_on   = [google_project_service.apis["iam.googleapis.com"]]
}

resource "google_service_account" "scheduler" {
  account_id   = "${var.name_prefix}-sched"
  display_name = "isphooks Cloud Scheduler caller"
  depends_on   = [google_project_service.apis["iam.googleapis.com"]]
}

# The runtime reads its own secret and nothing else (mounted as a volume or read through
# the API, it needs secretAccessor either way).
resource "google_secret_manager_secret_iam_member" "runtime_reads_config" {
  secret_id = google_secret_manager_secret.config.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime.email}"
}

# What Cloud Build needs to turn the archive into a function image, each as narrowly as
# the documentation allows. The roles are those of "Configure the build service account"
# (https://cloud.google.com/run/docs/configuring/services/build-service-account) and
# "Custom service account for Cloud Build"
# (https://cloud.google.com/functions/docs/securing/build-custom-sa):
# - roles/logging.logWriter, "for storing build logs in Cloud Logging": a project role.
resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# - roles/artifactregistry.writer, "for storing build images in Artifact Registry": on the
#   one repository the builds push to (build_config.docker_repository in main.tf).
resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}

# - roles/storage.objectAdmin, "for retrieving the function source from the Cloud Storage
#   bucket": on our source bucket,
resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.build.email}"
}

#   and on the bucket Cloud Functions copies the source into before the build,
#   gcf-v2-sources-PROJECT_NUMBER-REGION (https://cloud.google.com/functions/docs/building;
#   with CMEK the name gets a suffix, which the prefix match covers). Cloud Functions
#   creates that bucket on the first deployment, so it cannot take a bucket grant before
#   it exists: a project grant limited to it by an IAM condition on the resource name
#   (https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name).
resource "google_project_iam_member" "build_reads_gcf_sources" {
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = "serviceAccount:${google_service_account.build.email}"

  condition {
    title       = "gcf-v2-sources bucket only"
    description = "The bucket Cloud Functions copies the function source into for the build."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-${data.google_project.this.number}-${var.region}\")"
  }
}

# `depends_on` orders creation but does not wait for new grants to take effect; the
# provider's own example waits before the first build ("builder permissions need to
# stabilize before it can pull the source zip": google_cloudfunctions2_function,
# example "Cloudfunctions2 Basic Builder"). Every function depends on this.
resource "time_sleep" "iam_propagation" {
  create_duration = var.iam_propagation_wait

  depends_on = [
    google_project_iam_member.build_logs,
    google_artifact_registry_repository_iam_member.build_pushes_images,
    google_storage_bucket_iam_member.build_reads_source,
    google_project_iam_member.build_reads_gcf_sources,
    google_secret_manager_secret_iam_member.runtime_reads_config,
  ]
}

# Billing-facing actions are public at the HTTP layer: each request must carry a Standard
# Webhooks signature, checked on the raw body before anything else; an unsigned request
# gets 401 and never reaches a panel. So is the Stripe door (docs/stripe.md), whose Stripe
# signature is its authentication. They are every action a billing system's module
# calls: the WHMCS modules call check (Test Connection) and usage (Usage Update, Server
# Sync) as well as the account actions, so those are public too; the scheduler keeps its
# own binding below (its token is scoped to usage, check and scheduler.actions). `private = true` removes this binding for setups that
# front the functions with API Gateway or a load balancer. Where the organization policy
# "domain restricted sharing" refuses allUsers, set public_access = "invoker_check_disabled"
# and disable the invoker check instead (infra/README.md, "Public or private").
resource "google_cloud_run_service_iam_member" "public" {
  for_each = var.private || var.public_access != "allUsers" ? toset([]) : toset(concat(var.billing_actions, local.doors))
  location = var.region
  service  = google_cloudfunctions2_function.action[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers" #checkov:skip=CKV_GCP_102:billing webhooks authenticate by Standard Webhooks signature in the function; see the comment above
}

# A gateway or load balancer may invoke the billing-facing actions (every action the WHMCS
# modules call); an action left out of billing_actions is invoked by the scheduler alone.
resource "google_cloud_run_service_iam_member" "invokers" {
  for_each = merge(
    { for pair in setproduct(var.billing_actions, var.invoker_members) : "${pair[0]}/${pair[1]}" => pair },
    # the Stripe door (docs/stripe.md) is billing-facing too
    { for pair in setproduct(local.doors, var.invoker_members) : "${pair[0]}/${pair[1]}" => pair },
  )
  location = var.region
  service  = google_cloudfunctions2_function.action[each.value[0]].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value[1]
}

# The scheduler may invoke the actions it has jobs for (usage, check, scheduled retries).
resource "google_cloud_run_service_iam_member" "scheduler" {
  for_each = toset([for job in local.jobs : job.action])
  location = var.region
  service  = google_cloudfunctions2_function.action[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}
