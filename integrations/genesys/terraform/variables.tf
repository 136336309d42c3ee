variable "genesys_region" {
  description = "Genesys Cloud region for the provider, e.g. us-east-1, eu-west-1 (the provider also reads GENESYSCLOUD_REGION)."
  type        = string
  default     = "us-east-1"
}

variable "receiver_base_url" {
  description = "Public HTTPS base URL of the IVR receiver (no trailing slash). Genesys data actions only call HTTPS endpoints."
  type        = string

  validation {
    condition     = can(regex("^https://[^/\\s]+(/[^\\s]*[^/])?$", var.receiver_base_url))
    error_message = "receiver_base_url must be an https:// URL without a trailing slash."
  }
}

variable "webhook_token" {
  description = "Shared secret the data action sends as X-Webhook-Token; the receiver's WEBHOOK_TOKEN."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.webhook_token) >= 32
    error_message = "webhook_token must be at least 32 characters."
  }
}

variable "prefer_wait_seconds" {
  description = "Prefer: wait=N sent to the receiver (N <= 10); must stay below action_timeout_seconds."
  type        = number
  default     = 4

  validation {
    condition     = var.prefer_wait_seconds >= 1 && var.prefer_wait_seconds <= 10
    error_message = "prefer_wait_seconds must be between 1 and 10."
  }
}

variable "action_timeout_seconds" {
  description = "Data action timeout (1-60 s); keep it above prefer_wait_seconds plus network time."
  type        = number
  default     = 6
}

variable "integration_name" {
  description = "Name of the Web Services Data Actions integration."
  type        = string
  default     = "IVR Routing Orchestrator"
}

variable "action_name" {
  description = "Data action name; the Archy flow (ivr-routing.archy.yaml) refers to it by this name."
  type        = string
  default     = "IVR Routing - Decide Route"
}

variable "worker_client_name" {
  description = "Name of the client-credentials OAuth client the workers use (GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET)."
  type        = string
  default     = "IVR Routing Orchestrator Workers"
}
