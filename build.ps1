#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, explores, benchmarks and packs FastThreadPool.

.DESCRIPTION
    Verbs:
      test    Restore, build, run tests/Unit and tests/Concurrency (Coyote, -Iterations per scenario, default 2000),
              and the checks that exist only in Debug builds (tests in category DebugChecks, built -c Debug).
              Tests in category Manual are left out. Ends with the plain line "N passed, N failed, N skipped".
      litmus  The native weak-memory litmus tests, including the Manual ones that must catch the deliberately
              fence-less deque and the pool's cancel without its process-wide barrier on this machine; prints
              rounds, contested rounds and violations.
      coyote  Deep exploration of the Coyote scenarios: -Iterations (default 100000) per scenario under each of
              -Strategies, and under each of -Seeds when given (else each scenario's own fixed seed, as in CI).
              Every bug is printed with its reproducible trace and the command that replays it.
              Without -Filter, then the reliability suite with -SoakSeconds (default 180) of random load.
      bench   The main job: the headline benchmark set, ours against the BCL peers, in a short in-process
              BenchmarkDotNet configuration. Prints the table with ratios and writes artifacts/bench/summary.json,
              summary.md and a chart per suite. -Full runs BenchmarkDotNet's default jobs; -Filter passes a filter
              through (several patterns separated by commas).
      dry     Every benchmark once (BenchmarkDotNet's Dry job), so that none of them rots.
      scaling The thread-scaling benchmarks (meant for a machine with 16 cores).
      publish The benchmarks published self-contained for linux-x64 and packed as artifacts/bench-linux-x64.tar.xz,
              for a machine without .NET; run there with bench/run-scaling.sh.
      pack    NuGet packages of the two libraries (with README, license, XML docs, symbols) into
              artifacts/packages, then the install test: a fresh console project restored from them alone.
      clean   Removes artifacts/ and the build outputs.
    Every verb exits non-zero on failure.

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
    dotnet tool restore && dotnet pwsh ./build.ps1 bench
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('test', 'litmus', 'coyote', 'bench', 'dry', 'scaling', 'publish', 'pack', 'clean')]
    [string]$Verb = 'test',

    [int]$Iterations = 0,

    [string[]]$Strategies = @('fair-prioritization', 'random', 'probabilistic', 'prioritization'),

    [string[]]$Seeds = @(),

    [int]$SoakSeconds = 180,

    [switch]$Full,

    [string]$Filter = '',

    [string]$Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$artifacts = Join-Path $PSScriptRoot 'artifacts'

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments = $true)][string[]]$Arguments)
    & dotnet @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    Invoke-Dotnet tool restore
    Invoke-Dotnet build FastThreadPool.sln -c $Configuration
}

# Runs one test project, writes a TRX file, and returns its counters (the TRX is what the totals are read from).
function Invoke-TestProject {
    param([string]$Project, [string]$Name, [string[]]$Extra = @())
    $dir = Join-Path $artifacts 'test'
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    $trx = "$Name.trx"
    Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $dir $trx)
    & dotnet test $Project -c $Configuration --no-build --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal' --results-directory $dir @Extra | Out-Host
    $exit = $LASTEXITCODE
    $path = Join-Path $dir $trx
    if (-not (Test-Path $path)) {
        Write-Host "no test results for $Name (exit code $exit)"
        return [pscustomobject]@{ Failures = @("FAILED $Name (no results)"); Passed = 0; Failed = 1; Skipped = 0; Exit = $exit }
    }
    [xml]$xml = Get-Content $path
    $c = $xml.TestRun.ResultSummary.Counters
    # Names and first message lines of failed tests, repeated at the end so a CI log's tail shows them.
    $failures = @($xml.TestRun.Results.UnitTestResult | Where-Object { $_ -and $_.outcome -eq 'Failed' } | ForEach-Object {
        $message = "$($_.Output.ErrorInfo.Message)".Trim() -split "`n" | Select-Object -First 3
        "FAILED $($_.testName): $($message -join ' | ')"
    })
    return [pscustomobject]@{
        Failures = $failures
        Passed = [int]$c.passed
        Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
        Skipped = [int]$c.notExecuted
        Exit = $exit
    }
}

function Write-Totals {
    param([object[]]$Results)
    $passed = ($Results | Measure-Object -Property Passed -Sum).Sum
    $failed = ($Results | Measure-Object -Property Failed -Sum).Sum
    $skipped = ($Results | Measure-Object -Property Skipped -Sum).Sum
    $broken = @($Results | Where-Object { $_.Exit -ne 0 -and $_.Failed -eq 0 }).Count
    $failed += $broken
    foreach ($r in $Results) { foreach ($f in $r.Failures) { Write-Host $f } }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    return $failed
}

switch ($Verb) {
    'test' {
        Invoke-Build
        if ($Iterations -gt 0) { $env:FTP_COYOTE_ITERATIONS = "$Iterations" }
        $results = @(
            Invoke-TestProject 'tests/Unit/FastThreadPool.Tests.Unit.csproj' 'unit' @('--filter', 'Category!=Manual&Category!=DebugChecks')
            Invoke-TestProject 'tests/Concurrency/FastThreadPool.Tests.Concurrency.csproj' 'concurrency'
        )
        # Owner-only misuse of the deque is detected in Debug builds only: build and run those checks in Debug.
        Invoke-Dotnet build tests/Unit/FastThreadPool.Tests.Unit.csproj -c Debug
        $saved = $Configuration
        $Configuration = 'Debug'
        $results += Invoke-TestProject 'tests/Unit/FastThreadPool.Tests.Unit.csproj' 'unit-debug' @('--filter', 'Category=DebugChecks')
        $Configuration = $saved
        $failed = Write-Totals $results
        exit ([int]($failed -gt 0))
    }
    'litmus' {
        Invoke-Build
        $results = @(
            Invoke-TestProject 'tests/Unit/FastThreadPool.Tests.Unit.csproj' 'litmus' @('--filter', 'FullyQualifiedName~Litmus', '--logger', 'console;verbosity=detailed')
        )
        $failed = Write-Totals $results
        exit ([int]($failed -gt 0))
    }
    'coyote' {
        Invoke-Build
        $env:FTP_COYOTE_ITERATIONS = if ($Iterations -gt 0) { "$Iterations" } else { '100000' }
        $results = @()
        # Accept "a,b" as one argument too (pwsh -File passes it as a single string).
        # Seeds: none given runs each scenario under its own fixed seed (as CI does); given ones run every scenario
        # under each, which shows whether a planted bug is found by more than a lucky seed.
        $seedList = @($Seeds | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
        if ($seedList.Count -eq 0) { $seedList = @('') }
        foreach ($strategy in ($Strategies | ForEach-Object { $_ -split ',' } | Where-Object { $_ })) {
            foreach ($seed in $seedList) {
                $label = if ($seed) { "$strategy-seed$seed" } else { $strategy }
                Write-Host "== Coyote: strategy $strategy, $($env:FTP_COYOTE_ITERATIONS) iterations per scenario, seed $(if ($seed) { $seed } else { 'per scenario' })"
                $env:FTP_COYOTE_STRATEGY = $strategy
                if ($seed) { $env:FTP_COYOTE_SEED = $seed } else { Remove-Item Env:FTP_COYOTE_SEED -ErrorAction SilentlyContinue }
                $extra = @()
                if ($Filter) { $extra = @('--filter', $Filter) }
                $results += Invoke-TestProject 'tests/Concurrency/FastThreadPool.Tests.Concurrency.csproj' "coyote-$label" $extra
            }
        }
        Remove-Item Env:FTP_COYOTE_SEED -ErrorAction SilentlyContinue
        if (-not $Filter) {
            # The nightly soak: the reliability suite's random load for minutes instead of CI's seconds.
            Write-Host "== Soak: $SoakSeconds s of random load (tables in artifacts/reliability)"
            $env:FTP_SOAK_SECONDS = "$SoakSeconds"
            $results += Invoke-TestProject 'tests/Unit/FastThreadPool.Tests.Unit.csproj' 'soak' @('--filter', 'FullyQualifiedName~Reliability')
            Remove-Item Env:FTP_SOAK_SECONDS
        }
        Write-Host 'Traces of failed scenarios: artifacts/coyote/*.trace (replay command printed with each bug).'
        $failed = Write-Totals $results
        exit ([int]($failed -gt 0))
    }
    { $_ -in 'bench', 'dry', 'scaling' } {
        Invoke-Dotnet tool restore
        $mode = if ($Verb -eq 'bench') { if ($Full) { 'full' } else { 'headline' } } else { $Verb }
        $benchArgs = @('run', '-c', 'Release', '--project', 'bench/FastThreadPool.Benchmarks.csproj', '--', $mode)
        # Several patterns: "a,b" (one argument) or -Filter a,b.
        if ($Filter) { $benchArgs += @('--filter') + @($Filter -split ',' | Where-Object { $_ }) }
        Invoke-Dotnet @benchArgs
    }
    'publish' {
        Invoke-Dotnet tool restore
        $pub = Join-Path $artifacts 'bench-publish'
        if (Test-Path $pub) { Remove-Item -Recurse -Force $pub }
        Invoke-Dotnet publish bench/FastThreadPool.Benchmarks.csproj -c Release -r linux-x64 --self-contained --output $pub
        Copy-Item bench/run-scaling.sh $pub
        & tar -cJf (Join-Path $artifacts 'bench-linux-x64.tar.xz') -C $pub .
        if ($LASTEXITCODE -ne 0) { throw 'tar failed' }
        Write-Host "artifacts/bench-linux-x64.tar.xz"
    }
    'pack' {
        Invoke-Dotnet tool restore
        $packages = Join-Path $artifacts 'packages'
        if (Test-Path $packages) { Remove-Item -Recurse -Force $packages }
        Invoke-Dotnet pack src/Primitives/FastThreadPool.Primitives.csproj -c Release --output $packages
        Invoke-Dotnet pack src/Pool/FastThreadPool.csproj -c Release --output $packages
        Get-ChildItem $packages | ForEach-Object { Write-Host "  $($_.Name)" }

        # The install test: a throwaway console project outside the repository, restored from these packages only
        # (its own package cache, so an older package of the same version cannot stand in), uses every type.
        $version = "$(& dotnet msbuild src/Pool/FastThreadPool.csproj -getProperty:Version)".Trim()
        $work = Join-Path ([System.IO.Path]::GetTempPath()) "ftp-install-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory -Path $work | Out-Null
        try {
            Copy-Item tests/Install/Install.csproj.in (Join-Path $work 'Install.csproj')
            Copy-Item tests/Install/Program.cs $work
            Set-Content (Join-Path $work 'nuget.config') @"
<configuration><packageSources><clear /><add key="local" value="$packages" /></packageSources></configuration>
"@
            $env:NUGET_PACKAGES = Join-Path $work 'cache'
            Invoke-Dotnet run --project (Join-Path $work 'Install.csproj') -c Release "-p:FastThreadPoolVersion=$version"
            Write-Host "install test: passed (FastThreadPool $version from $packages)"
        }
        finally {
            Remove-Item Env:NUGET_PACKAGES -ErrorAction SilentlyContinue
            Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
        }
    }
    'clean' {
        if (Test-Path $artifacts) { Remove-Item -Recurse -Force $artifacts }
        Get-ChildItem -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
        Write-Host 'clean'
    }
}
