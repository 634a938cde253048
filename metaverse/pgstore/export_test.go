package pgstore

// Migrations exposes the migrations to the tests of older schemas.
var Migrations = migrations
