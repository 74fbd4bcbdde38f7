variable "create" {
  description = "Whether to create the table; false creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the table: 3-255 characters of letters, digits, underscore, hyphen and dot."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "hash_key" {
  description = "Name of the partition key attribute, a string (1-255 characters)."
  type        = string

  validation {
    condition     = length(var.hash_key) >= 1 && length(var.hash_key) <= 255
    error_message = "hash_key must be 1-255 characters."
  }
}

variable "range_key" {
  description = "Name of the sort key attribute, a string (1-255 characters); null (default) for none."
  type        = string
  default     = null

  validation {
    condition     = var.range_key == null || try(length(var.range_key) >= 1 && length(var.range_key) <= 255, false)
    error_message = "range_key must be null or 1-255 characters."
  }
}

variable "stream_view_type" {
  description = "What the table's stream records hold: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES; null (default) for no stream."
  type        = string
  default     = null

  validation {
    condition     = var.stream_view_type == null || contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], coalesce(var.stream_view_type, "-"))
    error_message = "stream_view_type must be null, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for server-side encryption; null uses the AWS managed key (aws/dynamodb)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "point_in_time_recovery" {
  description = "Whether point-in-time recovery is on (default true)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Whether deletion protection is on; default false so that sandboxes can be destroyed."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the table (map of up to 50 key-value strings)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 50
    error_message = "tags must have at most 50 entries, AWS's limit per resource."
  }
}
