variable "genesys_region" {
  description = "Genesys Cloud region (aws_region), e.g. eu-west-1. Leave unset: the provider then reads GENESYSCLOUD_REGION."
  type        = string
  default     = null
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
  description = "Name of the Web Services Data Actions integration; Architect lists the data action under this category."
  type        = string
  default     = "IVR Routing Orchestrator"
}

variable "action_name" {
  description = "Data action name (the name in ../data-action.json); the flow refers to it by this name, substituted."
  type        = string
  default     = "IVR Routing - Decide Route"
}

variable "companion_integration_name" {
  description = "Name of the Genesys Cloud Data Actions integration holding the companion action; its category in the flow."
  type        = string
  default     = "IVR Routing Orchestrator - Genesys Cloud"
}

variable "flow_name" {
  description = "Name of the published inbound call flow."
  type        = string
  default     = "IVR Routing Orchestrator"
}

variable "queue_name" {
  description = "The ACD queue the flow transfers to (and whose voicemail it uses); TARGET_QUEUE_ID is this queue's id."
  type        = string
  default     = "Support"
}

variable "worker_client_name" {
  description = "Name of the client-credentials OAuth client the workers use (GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET)."
  type        = string
  default     = "IVR Routing Orchestrator Workers"
}
