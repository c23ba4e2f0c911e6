variable "name" {
  type        = string
  description = "Repository name (lower case, e.g. commerce-platform)."
  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._/-][a-z0-9]+)*$", var.name))
    error_message = "name must be a valid ECR repository name (lower-case letters, digits, . _ - /)."
  }
}

variable "keep_tagged_images" {
  type        = number
  description = "How many release-tagged images (tags starting with one of release_tag_prefixes) to keep."
  default     = 30
  validation {
    condition     = var.keep_tagged_images >= 1
    error_message = "keep_tagged_images must be at least 1."
  }
}

variable "release_tag_prefixes" {
  type        = list(string)
  description = "Tag prefixes that mark release images, kept up to keep_tagged_images."
  default     = ["v", "release-"]
}

variable "untagged_expiry_days" {
  type        = number
  description = "Untagged images (superseded builds) are deleted after this many days."
  default     = 7
  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "keep_any_images" {
  type        = number
  description = "How many images of any other tag (the pipeline's commit tags) to keep; must exceed keep_tagged_images."
  default     = 100
  validation {
    condition     = var.keep_any_images >= 1
    error_message = "keep_any_images must be at least 1."
  }
}

variable "replication_regions" {
  type        = list(string)
  description = "Regions this repository's images are replicated to (the standby region). This sets the account's registry replication configuration in the current region."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
