//! Password hashes: conversion to Keycloak password credentials per target hash capabilities, and verification of known passwords (bcrypt, PBKDF2, Argon2, Firebase scrypt, digests).
