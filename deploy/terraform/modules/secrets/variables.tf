variable "name_prefix" {
  type        = string
  description = "Path prefix of every secret, e.g. commerce/production (secrets are named <prefix>/<name>)."
  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]+$", var.name_prefix))
    error_message = "name_prefix may contain letters, digits and / _ + = . @ - only."
  }
}

variable "generated" {
  type = map(object({
    length = number
  }))
  description = "Secrets whose value Terraform generates (random, letters and digits only so they fit in URLs), by name."
  default     = {}
  validation {
    condition     = alltrue([for s in values(var.generated) : s.length >= 32 && s.length <= 128])
    error_message = "Every generated secret must be 32 to 128 characters long."
  }
}

variable "provided_names" {
  type        = set(string)
  description = "Names of the secrets whose values are given in provided_values (a separate, non-sensitive list because Terraform cannot iterate over sensitive keys)."
  default     = []
}

variable "provided_values" {
  type        = map(string)
  description = "Values of the provided secrets, by name (e.g. connection URLs composed from endpoints and generated passwords)."
  default     = {}
  sensitive   = true
}

variable "kms_key_id" {
  type        = string
  description = "KMS key for the secrets; null uses the account's aws/secretsmanager key."
  default     = null
}

variable "recovery_window_in_days" {
  type        = number
  description = "Days a deleted secret can still be restored (0 deletes at once; 7 to 30 otherwise)."
  default     = 7
  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "replica_regions" {
  type        = list(string)
  description = "Regions the generated secrets are replicated to under the same name (the standby region). Provided secrets are not replicated: their values (URLs) are per region."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
