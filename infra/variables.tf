variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the functions, the source bucket and the scheduler jobs."
  type        = string
  default     = "europe-west1"
}

variable "name_prefix" {
  description = "Prefix of every resource name; functions are named <prefix>-<action>."
  type        = string
  default     = "isphooks"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2-21 lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "source_zip" {
  description = "The archive built by `make bundle`; null means ../dist/isphooks-src.zip."
  type        = string
  default     = null
}

variable "runtime" {
  description = "Cloud Functions Python runtime."
  type        = string
  default     = "python311"

  validation {
    condition     = contains(["python311", "python312", "python313"], var.runtime)
    error_message = "runtime: python311, python312 or python313."
  }
}

variable "function_timeout_s" {
  description = "Request timeout of each function, in seconds. Keep it above the panels' timeout_s."
  type        = number
  default     = 120

  validation {
    condition     = var.function_timeout_s >= 10 && var.function_timeout_s <= 1740
    error_message = "function_timeout_s: 10 to 1740 (scheduler deadlines add 60 s and stop at 1800)."
  }
}

variable "memory" {
  description = "Memory of each function instance (reconcile: reconcile_memory)."
  type        = string
  default     = "256Mi"
}

variable "reconcile_memory" {
  description = "Memory of a reconcile instance: one 2 MiB reconcile of 10,000 services against 10,000 accounts peaks at ~76 MiB, four at once at ~176 MiB (make bench)."
  type        = string
  default     = "512Mi"
}

variable "reconcile_concurrency" {
  description = "Reconciles one instance runs at once (each holds its list, the server's accounts and the report)."
  type        = number
  default     = 4
}

variable "max_instances" {
  description = "Upper bound of instances per function."
  type        = number
  default     = 10
}

variable "concurrency" {
  description = "Requests one instance serves at once (the handlers are thread-safe)."
  type        = number
  default     = 8
}

variable "stripe" {
  description = "Deploy the Stripe Billing door, the function <prefix>-stripe (docs/stripe.md): public like the billing actions, its Stripe signature its authentication. Without a `stripe` section in the config it authenticates no one."
  type        = bool
  default     = true
}

variable "billing_actions" {
  description = "Actions the billing system calls: every one the WHMCS modules call, check (Test Connection, the server page), usage (Usage Update, usage billing, Server Sync) and status (the admin services tab) included. They are publicly invocable unless `private`: the Standard Webhooks signature is their authentication. The scheduler keeps its own token access to the actions it has jobs for."
  type        = list(string)
  default     = ["create", "suspend", "unsuspend", "terminate", "upgrade", "password", "sso", "reconcile", "usage", "check", "status"]
}

variable "private" {
  description = "Make every function private: only `invoker_members` (e.g. an API Gateway or load-balancer service account, on the billing_actions) and the scheduler (on the actions it has jobs for) may invoke them."
  type        = bool
  default     = false
}

variable "ingress_settings" {
  description = "Who may reach the functions at the network level: ALLOW_ALL (billing on the internet), ALLOW_INTERNAL_AND_GCLB (behind a load balancer) or ALLOW_INTERNAL_ONLY."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_INTERNAL_ONLY"], var.ingress_settings)
    error_message = "ingress_settings: ALLOW_ALL, ALLOW_INTERNAL_AND_GCLB or ALLOW_INTERNAL_ONLY."
  }
}

variable "invoker_members" {
  description = "IAM members given roles/run.invoker on the billing_actions (a gateway or load balancer in front of private functions), e.g. [\"serviceAccount:gateway@p.iam.gserviceaccount.com\"]."
  type        = list(string)
  default     = []
}

variable "secret_id" {
  description = "Secret Manager secret holding the config document (its payload is added out of band)."
  type        = string
  default     = "isphooks-config"
}

variable "secrets_ttl_s" {
  description = "How long an instance caches the config document (ISPHOOKS_SECRETS_TTL)."
  type        = number
  default     = 300
}

variable "time_zone" {
  description = "Time zone of the scheduler jobs."
  type        = string
  default     = "Etc/UTC"
}

variable "usage_schedule" {
  description = "Cron schedule of the daily usage run."
  type        = string
  default     = "15 3 * * *"
}

variable "check_schedule" {
  description = "Cron schedule of the hourly check."
  type        = string
  default     = "5 * * * *"
}

variable "scheduled_actions" {
  description = <<-EOT
    Extra scheduler jobs calling an action with a fixed body, authenticated by OIDC, e.g. a
    scheduled retry of an action the billing system could not deliver:
    { retry-suspend-1001 = { action = "suspend", schedule = "*/30 * * * *",
    body = "{\"service_id\":\"1001\",\"server\":\"isp1\",\"username\":\"u1001\",\"event_time\":1764540000000}" } }.
    An account action's body must carry the event_time of the decision it repeats: the
    job then never overrides a newer decision of the billing system (after the customer
    pays, the repeated suspend is superseded instead of suspending them again). For drift,
    run reconcile instead.
  EOT
  type = map(object({
    action   = string
    schedule = string
    body     = string
  }))
  default = {}

  validation {
    condition = alltrue([
      for job in values(var.scheduled_actions) :
      !contains(["create", "suspend", "unsuspend", "terminate", "upgrade", "password"], job.action) || can(regex("event_time.{1,4}[0-9]{13}", job.body))
    ])
    error_message = "scheduled_actions: the body of a scheduled account action (create, suspend, unsuspend, terminate, upgrade, password) must carry \"event_time\" (ms since the epoch, when the decision was made), or it would override newer billing decisions."
  }
}

variable "force_destroy_bucket" {
  description = "Allow deleting the source bucket with its archive versions. The provider reads it from the state: `terraform apply` with it set to true first, then `terraform destroy`."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels put on every resource that takes them."
  type        = map(string)
  default     = { app = "isphooks" }
}

variable "config_source" {
  description = "How the functions read the config secret: \"volume\" mounts it as a file (ISPHOOKS_SECRETS=file:..., no Secret Manager SDK in the cold start; the default) or \"api\" reads it with the Secret Manager client (ISPHOOKS_SECRETS=gcp:...)."
  type        = string
  default     = "volume"

  validation {
    condition     = contains(["volume", "api"], var.config_source)
    error_message = "config_source: volume or api."
  }
}

variable "config_mount_path" {
  description = "Where the config secret is mounted (config_source = \"volume\"); the document is <path>/isphooks.json. The directory is shadowed by the mount."
  type        = string
  default     = "/etc/secrets"
}

variable "public_access" {
  description = "How billing_actions are made public (unless `private`): \"allUsers\" grants roles/run.invoker to allUsers; \"invoker_check_disabled\" grants nothing, for organizations whose domain restricted sharing policy refuses allUsers: then disable the Cloud Run invoker check as infra/README.md says."
  type        = string
  default     = "allUsers"

  validation {
    condition     = contains(["allUsers", "invoker_check_disabled"], var.public_access)
    error_message = "public_access: allUsers or invoker_check_disabled."
  }
}

variable "iam_propagation_wait" {
  description = "How long to wait after the build and runtime grants before the first build (a time_sleep duration)."
  type        = string
  default     = "60s"
}

variable "noncurrent_source_days" {
  description = "Days a replaced source archive is kept (noncurrent) before the bucket's lifecycle rule deletes it."
  type        = number
  default     = 30
}

variable "notification_channels" {
  description = "Monitoring notification channels the alert policies notify, as projects/P/notificationChannels/ID; empty: incidents are only shown in the console."
  type        = list(string)
  default     = []
}

variable "alert_5xx_ratio" {
  description = "Alert when an action's share of 5xx answers over the last 10 minutes stays above this (0-1) for 5 minutes."
  type        = number
  default     = 0.1
}

variable "alert_5xx_count" {
  description = "Alert when an action answers more than this many authenticated requests with 5xx within 10 minutes, whatever the ratio."
  type        = number
  default     = 20
}

variable "alert_service_failures" {
  description = "Alert when one service_id has more than this many failed deliveries within alert_service_window_s."
  type        = number
  default     = 3
}

variable "alert_service_window_s" {
  description = "The window, in seconds, over which failed deliveries of one service_id are counted."
  type        = number
  default     = 3600
}

variable "static_egress" {
  description = "Send all of the functions' outbound traffic through a Serverless VPC Access connector and Cloud NAT with one reserved external address (the egress_ip output), for panels that accept port 1500 only from known addresses (infra/README.md, Static egress). Off: the functions leave Google Cloud from changing addresses."
  type        = bool
  default     = false
}

variable "egress_subnet_cidr" {
  description = "With static_egress: the /28 the connector's instances use (its own subnet of the egress network; must not overlap anything the functions reach through the connector)."
  type        = string
  default     = "10.8.0.0/28"

  validation {
    condition     = can(cidrhost(var.egress_subnet_cidr, 0)) && endswith(var.egress_subnet_cidr, "/28")
    error_message = "egress_subnet_cidr: an IPv4 /28, e.g. 10.8.0.0/28 (a Serverless VPC Access connector needs its own /28)."
  }
}

variable "egress_connector_machine_type" {
  description = "With static_egress: the connector instances' machine type (Serverless VPC Access offers f1-micro, e2-micro and e2-standard-4); at least two run all the time."
  type        = string
  default     = "e2-micro"
}

variable "egress_connector_max_instances" {
  description = "With static_egress: how many instances the connector may scale out to (3-10; it runs at least 2)."
  type        = number
  default     = 3

  validation {
    condition     = var.egress_connector_max_instances >= 3 && var.egress_connector_max_instances <= 10
    error_message = "egress_connector_max_instances: 3 to 10."
  }
}

variable "egress_connector_name" {
  description = "With static_egress: the connector's name; null means <name_prefix>-egress. Google wants it under 21 characters with each hyphen counted twice: set a shorter one when name_prefix is long."
  type        = string
  default     = null
}
